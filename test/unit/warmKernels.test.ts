// A worker's cache (shared/distributed/workerCache.ts) and the warm kernels it leases
// (warmKernels.ts): a kernel is built once per job and K and gives each later batch exactly the
// statistics of a kernel built for that batch; overlapping tasks get a kernel each; another job's
// idle kernels are disposed; the cache holds at most its limit.
import { describe, expect, it } from "vitest";
import { warmKernel } from "../../shared/distributed/warmKernels.ts";
import { WorkerCache } from "../../shared/distributed/workerCache.ts";
import { onnxKernel } from "../../shared/kernels/onnx.ts";
import type { EnsembleKernel } from "../../shared/kernels/types.ts";
import { networkProblem, type NetworkProblem } from "../../shared/problems/network.ts";
import { randomClassification } from "../support/synthetic.ts";

const model = { type: "mlp" as const, inputs: 6, hidden: [5], outputs: 3, activation: "tanh" as const };
const ds = randomClassification(300, 6, 3, 20, 9, 0);
/** one round's shard problem: its own batch, of its own size */
const round = (seed: number, rows: number): NetworkProblem =>
  networkProblem({
    model,
    dataset: ds,
    loss: "cross-entropy",
    batchSize: rows,
    batchSeed: seed,
    initSeed: 1,
    lossScale: 1,
  }).at(seed);
const draw = { sigma: 0.1, kind: "gaussian" as const, seed: 2, iteration: 1 };

/** onnx kernels that count their builds and disposals */
function counted() {
  const built: EnsembleKernel[] = [];
  let disposed = 0;
  const build = async (p: NetworkProblem, k: number) => {
    const kernel = await onnxKernel(p, k, { threads: 1 });
    built.push(kernel);
    const dispose = kernel.dispose.bind(kernel);
    return Object.assign(kernel, {
      dispose: async () => {
        disposed++;
        await dispose();
      },
    });
  };
  return { built, build, disposed: () => disposed };
}

describe("warm kernels from a worker cache", () => {
  it(
    "builds an onnx kernel once per job and K, and gives each batch the statistics of a kernel " + "built for it",
    async () => {
      const cache = new WorkerCache();
      const { built, build, disposed } = counted();
      const first = round(1, 60),
        second = round(2, 45);
      const a = await warmKernel(cache, "job-a", first, 6, build);
      await a.statistics(first.initial(), draw, first);
      await a.dispose();
      expect(disposed()).toBe(0);
      const b = await warmKernel(cache, "job-a", second, 6, build);
      const warm = await b.statistics(second.initial(), draw, second);
      const gram = Array.from(warm.gram),
        rhs = Array.from(warm.rhs),
        phi = warm.phi;
      expect(built.length).toBe(1);
      const fresh = await onnxKernel(second, 6, { threads: 1 });
      const cold = await fresh.statistics(second.initial(), draw, second);
      expect(gram).toEqual(Array.from(cold.gram));
      expect(rhs).toEqual(Array.from(cold.rhs));
      expect(phi).toBe(cold.phi);
      await fresh.dispose();
      await b.dispose();
      // another K is another kernel; another job's lease disposes this job's idle kernels
      await (await warmKernel(cache, "job-a", second, 4, build)).dispose();
      expect(built.length).toBe(2);
      await (await warmKernel(cache, "job-b", second, 4, build)).dispose();
      expect(built.length).toBe(3);
      expect(disposed()).toBe(2);
      await cache.clear();
      expect(disposed()).toBe(3);
    },
  );

  it("gives overlapping tasks a kernel each, each with its own batch's statistics", async () => {
    const cache = new WorkerCache();
    const { built, build } = counted();
    const shards = [round(3, 50), round(4, 70)];
    // two shards' tasks at once, as the local engine runs them on one thread
    const both = await Promise.all(
      shards.map(async (p) => {
        const kernel = await warmKernel(cache, "job-d", p, 5, build);
        const s = await kernel.statistics(p.initial(), draw, p);
        const out = { gram: Array.from(s.gram), phi: s.phi };
        await kernel.dispose();
        return out;
      }),
    );
    expect(built.length).toBe(2);
    for (const [i, p] of shards.entries()) {
      const fresh = await onnxKernel(p, 5, { threads: 1 });
      const s = await fresh.statistics(p.initial(), draw, p);
      expect(both[i].gram).toEqual(Array.from(s.gram));
      expect(both[i].phi).toBe(s.phi);
      await fresh.dispose();
    }
    // and later uses take the two idle kernels again
    await Promise.all(shards.map(async (p) => (await warmKernel(cache, "job-d", p, 5, build)).dispose()));
    expect(built.length).toBe(2);
    await cache.clear();
  });

  it("keeps at most its limit, dropping the least recently used, and never keeps a failed value", async () => {
    const cache = new WorkerCache(2);
    let made = 0;
    const make = (v: string) => async () => {
      made++;
      return v;
    };
    expect(await cache.get("a", make("A"))).toBe("A");
    expect(await cache.get("b", make("B"))).toBe("B");
    expect(await cache.get("a", make("A2"))).toBe("A"); // a is now the most recent
    await cache.get("c", make("C")); // drops b
    expect(await cache.get("a", make("A3"))).toBe("A");
    expect(await cache.get("b", make("B2"))).toBe("B2");
    expect(made).toBe(4);
    await expect(
      cache.get("bad", async () => {
        throw new Error("no shard");
      }),
    ).rejects.toThrow("no shard");
    expect(await cache.get("bad", make("fixed"))).toBe("fixed");
  });

  it("disposes a kernel dropped while leased when the task hands it back", async () => {
    const cache = new WorkerCache(1);
    const { build, disposed } = counted();
    const p = round(5, 40);
    const held = await warmKernel(cache, "job-e", p, 3, build);
    await cache.get("shard", async () => "rows"); // over the limit, but the kernel is busy
    await cache.clear(); // drops everything; the busy kernel goes when released
    expect(disposed()).toBe(0);
    await held.statistics(p.initial(), draw, p);
    await held.dispose();
    expect(disposed()).toBe(1);
  });
});
