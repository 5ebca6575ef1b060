// The local engine's evaluate tasks on worker threads, so a round's shards run in parallel as
// they do on Lambda: each worker takes one task at a time; tasks queue for a free worker.

import { Worker } from "node:worker_threads";
import { StoreFullError } from "../shared/store/blobStore.ts";

export interface EvaluatePool {
  readonly size: number;
  run(event: unknown): Promise<unknown>;
  close(): Promise<void>;
}

/** A task's error as the worker reported it: a full store's keeps its class (the server says the
 *  storage filled up), any other carries its name in its message. */
function taskError(name: string, message: string): Error {
  if (name === "StoreFullError") return new StoreFullError(message);
  return new Error(`${name}: ${message}`);
}

export function evaluatePool(size: number): EvaluatePool {
  if (!Number.isInteger(size) || size < 1)
    throw new RangeError(`an evaluate pool needs at least one worker, got ${size}`);
  const url = new URL("./evaluateWorker.mjs", import.meta.url);
  const idle: Worker[] = [];
  const queue: { event: unknown; resolve: (v: unknown) => void; reject: (e: Error) => void }[] = [];
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; worker: Worker }>();
  let next = 0;
  const workers = Array.from({ length: size }, () => {
    const w = new Worker(url);
    w.on("message", ({ id, output, error, name }: { id: number; output?: unknown; error?: string; name?: string }) => {
      const p = pending.get(id)!;
      pending.delete(id);
      if (error !== undefined) p.reject(taskError(name ?? "Error", error));
      else p.resolve(output);
      release(w);
    });
    w.on("error", (e) => {
      for (const [id, p] of pending)
        if (p.worker === w) {
          pending.delete(id);
          p.reject(e);
        }
    });
    idle.push(w);
    return w;
  });
  function dispatch(w: Worker, job: (typeof queue)[number]): void {
    const id = next++;
    pending.set(id, { resolve: job.resolve, reject: job.reject, worker: w });
    w.postMessage({ id, event: job.event });
  }
  function release(w: Worker): void {
    const job = queue.shift();
    if (job) dispatch(w, job);
    else idle.push(w);
  }
  return {
    size,
    run(event) {
      return new Promise((resolve, reject) => {
        const job = { event, resolve, reject };
        const w = idle.pop();
        if (w) dispatch(w, job);
        else queue.push(job);
      });
    },
    // queued tasks are dropped; tasks already running finish first, because terminating a thread
    // in the middle of a native ONNX Runtime call aborts the whole process
    async close() {
      for (const job of queue.splice(0)) job.reject(new Error("the evaluate pool was closed"));
      await Promise.all(
        [...pending.values()].map(
          (p) =>
            new Promise<void>((done) => {
              p.worker.once("message", () => done());
              p.worker.once("error", () => done());
              p.worker.once("exit", () => done());
            }),
        ),
      );
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
