// The data-shard fan-out (fanOut.ts) of a network job's rounds: item s is training shard s. Its
// task evaluates the round's ask on the shard's rows of the batch through the job's kernel (kept
// warm across rounds in the worker's cache): the partial statistics (../distributed/shardPartial.ts)
// and, with a trial, the shard's sums of Φ at every rung. The reduction reads every shard's share
// back in shard order (a missing or unreadable one is evaluated again, never used as is) and
// forms the modified EnKF's answer (shardAnswer.ts). Above the fan-in (compute.reduceFanIn, or
// what fits the reducer's read bound) the partials are first summed in a tree of combine tasks
// (../distributed/reductionTree.ts), and the reduction reads the tree's last level. Partials are
// read one at a time and added to a running sum: a reduction holds two of them, whatever S.

import { decodeTrainShard } from "../data/shards.ts";
import type { DatasetManifest } from "../data/manifest.ts";
import type { Split } from "../data/types.ts";
import { evaluateShard, shardObjectives, shardPlan, type ShardData } from "../distributed/evaluateShard.ts";
import { shardAnswer } from "./shardAnswer.ts";
import { decodePartial, encodePartial } from "../distributed/partialCodec.ts";
import { PARTIAL_PHASES, PartialSum, type ShardPartial } from "../distributed/shardPartial.ts";
import { childrenOf, fanInOf, treeLevels } from "../distributed/reductionTree.ts";
import { warmKernel } from "../distributed/warmKernels.ts";
import type { Ask } from "../enkf/modifiedEnkf.ts";
import type { EnsembleKernel } from "../kernels/types.ts";
import type { NetworkProblem } from "../problems/network.ts";
import { jobKernel, jobModel, type NetworkJob } from "../setup/jobSetup.ts";
import { IntegrityError, NotFoundError, type BlobStore } from "../store/blobStore.ts";
import { datasetReader } from "./datasetFiles.ts";
import type { FanOut, Worker } from "./fanOut.ts";
import { getJsonExact, keys, loadPlan, PARTIAL_TAGS, putJsonExact } from "./jobStore.ts";

type Share = { partial?: ShardPartial; trial?: { rows: number; phis: number[] } };

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
  const precision = job.compute.partialPrecision;
  const fanIn = fanInOf(k, precision, job.compute.reduceFanIn);
  const tree = treeLevels(shards, fanIn);
  /** nodes at each level: 0 the shards, then the tree's levels */
  const countAt = (level: number) => (level === 0 ? shards : tree[level - 1].nodes.length);

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

  /** A shard's share of a round if it reads back whole with the right shape (without its partial
   *  when `withPartial` is false); else null. */
  async function stored(
    round: number,
    shard: number,
    rungs: number,
    quiet = false,
    withPartial = true,
  ): Promise<Share | null> {
    try {
      let partial: ShardPartial | undefined;
      if (withPartial) {
        partial = decodePartial(
          await store.get(keys.partial(round, shard)),
          `${store.location}${keys.partial(round, shard)}`,
        );
        if (partial.shard !== shard || partial.k !== k) return null;
      }
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
    tree,
    async evaluate(round, shard, plan, opts = {}) {
      const ask = plan as Ask;
      if (shard >= shards) throw new RangeError(`round ${round}: shard ${shard} of a job with ${shards} shards`);
      // idempotent: a shard whose share is whole is done (a rerun would write the same statistics)
      if (!opts.force && (await stored(round, shard, rungsOf(ask), true))) return;
      const d = await data(shard);
      const part = await evaluateShard({ ...d, iteration: ask.iteration, theta: ask.point, draw: ask.draw, k, kernel });
      worker.crash("evaluate", round);
      await store.put(
        keys.partial(round, shard),
        encodePartial(part, precision),
        "application/octet-stream",
        PARTIAL_TAGS,
      );
      // a failed trial's Φ (NaN) stays NaN: plain JSON would write null, which sums as 0
      if (ask.trial)
        await putJsonExact(
          store,
          keys.trial(round, shard),
          await shardObjectives(d, ask.trial, k, kernel),
          PARTIAL_TAGS,
        );
    },
    // idempotent: a node whose sum is stored whole is done (a rerun would write the same bytes)
    async combine(round, level, node) {
      await sumNode(round, level, node);
    },
    async answer(round, plan) {
      const ask = plan as Ask;
      const t0 = performance.now();
      // the last level's nodes (the shards themselves without a tree), summed in order, and the
      // line search's shares (every shard's, small): with the partials when the reducer reads them
      const top = tree.length,
        rungs = rungsOf(ask);
      const sum = new PartialSum(k);
      const trials: { rows: number; phis: number[] }[] = [];
      for (let i = 0; i < countAt(top); i++) {
        if (top > 0) sum.add(await sumNode(round, top, i));
        else {
          const got = await share(round, i, rungs);
          sum.add(got.partial!);
          if (got.trial) trials.push(got.trial);
        }
      }
      if (top > 0 && rungs > 0)
        for (let s = 0; s < shards; s++) trials.push((await share(round, s, rungs, false)).trial!);
      const answer = shardAnswer(ask, sum, trials, alpha);
      // the workers' kernel phases and the reducer's reads
      const timings: Record<string, number> = { io: (performance.now() - t0) / 1000 };
      PARTIAL_PHASES.forEach((name, i) => {
        timings[name] = sum.timings?.[i] ?? 0;
      });
      return { answer, timings };
    },
  };

  /** Shard s's share of a round, evaluating the shard again when it is missing or unreadable. */
  async function share(round: number, s: number, rungs: number, withPartial = true): Promise<Share> {
    let got = await stored(round, s, rungs, false, withPartial);
    if (!got) {
      await fanOut.evaluate(round, s, await loadPlan(store, round), { force: true });
      got = await stored(round, s, rungs, false, withPartial);
    }
    if (!got) throw new Error(`round ${round}: shard ${s}'s partial is still unreadable after evaluating it again`);
    return got;
  }

  /** Node `node` of level `level` of the round's tree (level 0: shard `node`'s partial): stored, or
   *  summed from its children (each read, or formed, likewise) and stored. */
  async function sumNode(round: number, level: number, node: number): Promise<ShardPartial> {
    if (level === 0) return (await share(round, node, 0)).partial!;
    const key = keys.sum(round, level, node);
    try {
      const p = decodePartial(await store.get(key), `${store.location}${key}`);
      if (p.shard === node && p.k === k) return p;
    } catch (e) {
      if (!(e instanceof NotFoundError || e instanceof IntegrityError || e instanceof RangeError)) throw e;
    }
    const sum = new PartialSum(k);
    for (const c of childrenOf(node, fanIn, countAt(level - 1))) sum.add(await sumNode(round, level - 1, c));
    const p = sum.partial(node);
    // sums stay float64: the precision choice is the shards' only
    await store.put(key, encodePartial(p), "application/octet-stream", PARTIAL_TAGS);
    return p;
  }
  return fanOut;
}
