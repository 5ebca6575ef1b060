// A worker's ensemble kernels, kept warm across the rounds of one job (WorkerCache leases): a
// kernel is built for the job's model and K, and each call names the batch it evaluates, so the
// same kernel serves every shard and iteration. The kernel a task gets is leased: its dispose()
// hands it back to the cache instead of disposing it.

import type { EnsembleKernel } from "../kernels/types.ts";
import type { NetworkProblem } from "../problems/network.ts";
import type { WorkerCache } from "./workerCache.ts";

type Build = (problem: NetworkProblem, k: number) => Promise<EnsembleKernel>;

/** The kernel of job `jobKey` (any string that names the job's spec) for K = k, warm when the cache has one. */
export async function warmKernel(
  cache: WorkerCache,
  jobKey: string,
  problem: NetworkProblem,
  k: number,
  build: Build,
): Promise<EnsembleKernel> {
  const lease = await cache.lease(
    jobKey,
    `kernel|${k}`,
    () => build(problem, k),
    (kernel) => kernel.dispose(),
  );
  const kernel = lease.value;
  return {
    name: kernel.name,
    k: kernel.k,
    members: kernel.members,
    timings: kernel.timings,
    ...(kernel.startupSeconds !== undefined ? { startupSeconds: kernel.startupSeconds } : {}),
    statistics: (theta, draw, on) => kernel.statistics(theta, draw, on),
    direction: (s, out) => kernel.direction(s, out),
    objective: (theta, on) => kernel.objective(theta, on),
    ...(kernel.predict ? { predict: kernel.predict } : {}),
    dispose: () => lease.release(),
  };
}
