// enkf serve's CSV uploads, ingested on a worker thread each (ingestWorkerMain.ts runs
// shared/service/csvUpload.ts's ingestCsv): the request's pieces are posted as they arrive, at
// most IN_FLIGHT bytes ahead of the worker, so the upload's memory stays bounded and the server
// goes on answering other requests while it parses.

import { Worker } from "node:worker_threads";
import type { DatasetManifest } from "../shared/data/manifest.ts";
import { errorFromData, type CsvIngester, type errorData } from "../shared/service/csvUpload.ts";

const IN_FLIGHT = 8 * 2 ** 20;

export function workerIngester(): CsvIngester {
  return async (source, req, target) => {
    const worker = new Worker(new URL("./ingestWorker.mjs", import.meta.url), { workerData: { req, target } });
    let inFlight = 0;
    let drained: (() => void) | undefined;
    let answered = false;
    const answer = new Promise<DatasetManifest>((resolve, reject) => {
      worker.on("message", (m: { ack?: number; manifest?: DatasetManifest; error?: ReturnType<typeof errorData> }) => {
        if (m.ack !== undefined) {
          inFlight -= m.ack;
          drained?.();
          return;
        }
        answered = true;
        drained?.();
        if (m.error) reject(errorFromData(m.error));
        else resolve(m.manifest!);
      });
      worker.once("error", (e) => {
        answered = true;
        drained?.();
        reject(e);
      });
      worker.once("exit", (code) => {
        answered = true;
        drained?.();
        reject(new Error(`the upload's worker exited (${code}) without an answer`));
      });
    });
    answer.catch(() => undefined);
    try {
      return await send();
    } finally {
      void worker.terminate();
    }

    async function send(): Promise<DatasetManifest> {
      try {
        for await (const piece of source) {
          if (answered) break; // the worker refused the data already
          const chunk = piece.slice(); // a copy of its own, to transfer
          inFlight += chunk.byteLength;
          worker.postMessage({ chunk }, [chunk.buffer]);
          while (inFlight > IN_FLIGHT && !answered)
            await new Promise<void>((r) => {
              drained = r;
            });
        }
        if (!answered) worker.postMessage({ end: true });
      } catch (e) {
        // the request failed (too large, aborted): the worker removes its temporary file and answers
        worker.postMessage({ abort: (e as Error).message });
        await answer.catch(() => undefined);
        throw e;
      }
      return answer;
    }
  };
}
