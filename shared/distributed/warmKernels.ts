// A warm worker's kernels, kept across the rounds of the same job: building one (the ONNX
// sessions and their buffers) costs more than a small round's evaluation, and an evaluate task
// used to build it twice per round (statistics, then the trial's ladder). A kernel that reads its
// problem's batch at every call (EnsembleKernel.rebindable) is built once against a problem slot,
// and each later use points the slot at that use's shard problem. Other kernels (whose workspaces
// are sized by the batch) are built per use, as before.
// A kept kernel serves one use at a time (from warmKernel until its dispose()): tasks that run at
// once on one thread (the local engine without worker threads) each get their own. The kernels of
// the latest job are kept: a new job's first use disposes the others' idle kernels, and a busy one
// when its use ends.

import type { EnsembleKernel } from "../kernels/types.ts";
import type { NetworkProblem } from "../problems/network.ts";

type Build = (problem: NetworkProblem, k: number) => Promise<EnsembleKernel>;

interface Entry {
  job: string;
  k: number;
  kernel: EnsembleKernel;
  slot: { current: NetworkProblem };
  busy: boolean;
  /** its job is no longer the latest: disposed when its use ends */
  retired: boolean;
}

const entries: Entry[] = [];

/** A problem that forwards every read to `slot.current`. */
function slotProblem(slot: { current: NetworkProblem }): NetworkProblem {
  return new Proxy(slot.current, {
    get(_target, key) {
      const value = Reflect.get(slot.current, key, slot.current);
      return typeof value === "function" ? value.bind(slot.current) : value;
    },
  });
}

function remove(e: Entry): Promise<void> {
  entries.splice(entries.indexOf(e), 1);
  return e.kernel.dispose();
}

/** The kernel for `problem` of job `jobKey` (any string that names the job's spec), warm when it
 *  can be. Its dispose() hands a kept kernel back for the next use instead of disposing it. */
export async function warmKernel(jobKey: string, problem: NetworkProblem, k: number, build: Build): Promise<EnsembleKernel> {
  const others = entries.filter((e) => e.job !== jobKey);
  others.forEach((e) => { e.retired = true; });
  await Promise.all(others.filter((e) => !e.busy).map(remove));
  const idle = entries.find((e) => e.job === jobKey && e.k === k && !e.busy);
  if (idle) {
    idle.busy = true;
    idle.slot.current = problem;
    return keptView(idle);
  }
  const slot = { current: problem };
  const kernel = await build(slotProblem(slot), k);
  if (!kernel.rebindable) return kernel;
  const entry: Entry = { job: jobKey, k, kernel, slot, busy: true, retired: false };
  entries.push(entry);
  return keptView(entry);
}

/** The kept kernel, whose dispose() makes it idle again (or disposes it, once retired). */
function keptView(entry: Entry): EnsembleKernel {
  return new Proxy(entry.kernel, {
    get(target, key) {
      if (key === "dispose") return async () => { entry.busy = false; if (entry.retired) await remove(entry); };
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** Disposes every idle kept kernel and retires the busy ones (a process that wants its memory back). */
export async function releaseWarmKernels(): Promise<void> {
  entries.forEach((e) => { e.retired = true; });
  await Promise.all(entries.filter((e) => !e.busy).map(remove));
}
