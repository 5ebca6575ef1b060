// The data-shard fan-out (fanOut.ts) of a network job's rounds: item s is training shard s. Its
// task evaluates the round's ask on the shard's rows of the batch through the job's kernel (kept
// warm across rounds in the worker's cache): the partial statistics (../distributed/shardPartial.ts)
// and, with a trial, the shard's sums of Φ at every rung. The reduction reads every shard's share
// back in shard order (a missing or unreadable one is evaluated again, never used as is) and
// forms the modified EnKF's answer (../distributed/shardAnswer.ts).

import { decodeTrainShard } from "../data/shards.ts";
import type { DatasetManifest } from "../data/manifest.ts";
import type { Split } from "../data/types.ts";
import { evaluateShard, shardObjectives, shardPlan, type ShardData } from "../distributed/evaluateShard.ts";
import { shardAnswer } from "./shardAnswer.ts";
import { decodePartial, encodePartial, PARTIAL_PHASES, type ShardPartial } from "../distributed/shardPartial.ts";
import { warmKernel } from "../distributed/warmKernels.ts";
import type { Ask } from "../enkf/modifiedEnkf.ts";
import type { EnsembleKernel } from "../kernels/types.ts";
import type { NetworkProblem } from "../problems/network.ts";
import { jobKernel, jobModel, type NetworkJob } from "../setup/jobSetup.ts";
import { IntegrityError, NotFoundError, type BlobStore } from "../store/blobStore.ts";
import { datasetReader } from "./datasetFiles.ts";
import type { FanOut, Worker } from "./fanOut.ts";
import { getJsonExact, keys, PARTIAL_TAGS, putJsonExact } from "./jobStore.ts";

type Share = { partial: ShardPartial; trial?: { rows: number; phis: number[] } };

/** The job's kernel for a shard's problem: its compute.backend, one ONNX thread and no RNG threads
 *  of its own (the workflow runs one evaluate task per core), kept warm across this job's rounds. */
export function shardKernel(
  job: NetworkJob,
  worker: Worker,
): (problem: NetworkProblem, k: number) => Promise<EnsembleKernel> {
  const build = async (problem: NetworkProblem) =>
    (await jobKernel(job, problem, worker.warn, { threads: 1, rngWorkers: 0 }))!;
  return (problem, k) => warmKernel(worker.cache, JSON.stringify(job), problem, k, build);
}

export function shardFanOut(store: BlobStore, job: NetworkJob, manifest: DatasetManifest, worker: Worker): FanOut {
  const k = job.optimizer.ensembleSize;
  const shards = manifest.splits.train.shards.length;
  const alpha = job.problem.regularization;
  const kernel = shardKernel(job, worker);

  /** A shard's rows, decoded once per worker: the files never change under their sha256s. */
  function rows(shard: number): Promise<Split> {
    const files = manifest.splits.train.shards[shard];
    const key = `shard|${store.location}|${shard}|${files?.x.sha256}|${files?.y.sha256}`;
    return worker.cache.get(key, async () =>
      decodeTrainShard(manifest, shard, await datasetReader(store, manifest), `${store.location}dataset`),
    );
  }

  async function data(shard: number): Promise<ShardData> {
    const slice = shardPlan(manifest.splits.train.rows, shards)[shard];
    return {
      model: jobModel(job, manifest),
      loss: job.problem.loss,
      kind: manifest.kind,
      outputs: manifest.outputs,
      rows: await rows(shard),
      slice,
      trainRows: manifest.splits.train.rows,
      batchSize: job.optimizer.batchSize,
      batchSeed: job.optimizer.seed,
    };
  }

  /** A shard's share of a round if it reads back whole with the right shape; else null. */
  async function stored(round: number, shard: number, rungs: number, quiet = false): Promise<Share | null> {
    try {
      const partial = decodePartial(
        await store.get(keys.partial(round, shard)),
        `${store.location}${keys.partial(round, shard)}`,
      );
      if (partial.shard !== shard || partial.k !== k) return null;
      if (rungs === 0) return { partial };
      const share = (await getJsonExact(store, keys.trial(round, shard))) as { rows?: unknown; phis?: unknown };
      const phis = share.phis;
      if (
        typeof share.rows !== "number" ||
        !Array.isArray(phis) ||
        phis.length !== rungs ||
        !phis.every((v) => typeof v === "number")
      )
        return null;
      return { partial, trial: { rows: share.rows, phis: phis as number[] } };
    } catch (e) {
      if (!(e instanceof NotFoundError || e instanceof IntegrityError || e instanceof RangeError)) throw e;
      if (!(quiet && e instanceof NotFoundError))
        console.warn(`enkf: round ${round}, shard ${shard}: ${(e as Error).message}; evaluating the shard again`);
      return null;
    }
  }

  const rungsOf = (ask: Ask) => ask.trial?.etas.length ?? 0;

  const fanOut: FanOut = {
    branch: job.compute.backend === "gpu" ? "gpu" : "shards",
    items: shards,
    async evaluate(round, shard, plan, opts = {}) {
      const ask = plan as Ask;
      if (shard >= shards) throw new RangeError(`round ${round}: shard ${shard} of a job with ${shards} shards`);
      // idempotent: a shard whose share is whole is done (a rerun would write the same statistics)
      if (!opts.force && (await stored(round, shard, rungsOf(ask), true))) return;
      const d = await data(shard);
      const part = await evaluateShard({ ...d, iteration: ask.iteration, theta: ask.point, draw: ask.draw, k, kernel });
      worker.crash("evaluate", round);
      await store.put(keys.partial(round, shard), encodePartial(part), "application/octet-stream", PARTIAL_TAGS);
      // a failed trial's Φ (NaN) stays NaN: plain JSON would write null, which sums as 0
      if (ask.trial)
        await putJsonExact(
          store,
          keys.trial(round, shard),
          await shardObjectives(d, ask.trial, k, kernel),
          PARTIAL_TAGS,
        );
    },
    async answer(round, plan) {
      const ask = plan as Ask;
      const t0 = performance.now();
      const shares: Share[] = [];
      for (let s = 0; s < shards; s++) {
        let share = await stored(round, s, rungsOf(ask));
        if (!share) {
          await fanOut.evaluate(round, s, ask, { force: true });
          share = await stored(round, s, rungsOf(ask));
        }
        if (!share)
          throw new Error(`round ${round}: shard ${s}'s partial is still unreadable after evaluating it again`);
        shares.push(share);
      }
      const parts = shares.map((s) => s.partial);
      const answer = shardAnswer(
        ask,
        parts,
        shares.flatMap((s) => (s.trial ? [s.trial] : [])),
        alpha,
      );
      // the workers' kernel phases and the reducer's reads
      const timings: Record<string, number> = { io: (performance.now() - t0) / 1000 };
      for (const p of parts)
        PARTIAL_PHASES.forEach((name, i) => {
          timings[name] = (timings[name] ?? 0) + (p.timings?.[i] ?? 0);
        });
      return { answer, timings };
    },
  };
  return fanOut;
}
