// A warm worker's kernels (shared/distributed/warmKernels.ts): an onnx kernel is built once per job
// and K and then serves each later round's shard problem with exactly the statistics a kernel built
// for that problem gives; kernels sized by their batch (the reference kernel) are built per use.
import { afterAll, describe, expect, it } from "vitest";
import { releaseWarmKernels, warmKernel } from "../../shared/distributed/warmKernels.ts";
import { onnxKernel } from "../../shared/kernels/onnx.ts";
import { referenceKernel } from "../../shared/kernels/reference.ts";
import type { EnsembleKernel } from "../../shared/kernels/types.ts";
import { networkProblem, type NetworkProblem } from "../../shared/problems/network.ts";
import { randomClassification } from "../support/synthetic.ts";

const model = { type: "mlp" as const, inputs: 6, hidden: [5], outputs: 3, activation: "tanh" as const };
const ds = randomClassification(300, 6, 3, 20, 9, 0);
// two rounds' shard problems: different batches of different sizes
const round = (seed: number, rows: number): NetworkProblem => {
  const p = networkProblem({ model, dataset: ds, loss: "cross-entropy", batchSize: rows, batchSeed: seed, initSeed: 1, lossScale: 1 });
  p.setIteration!(seed);
  return p;
};
const draw = { sigma: 0.1, kind: "gaussian" as const, seed: 2, iteration: 1 };

afterAll(releaseWarmKernels);

describe("warm kernels", () => {
  it("builds an onnx kernel once per job and K, and gives each round the statistics of a kernel built for it", async () => {
    const built: EnsembleKernel[] = [];
    const build = async (p: NetworkProblem, k: number) => { const kernel = await onnxKernel(p, k, 0, { threads: 1 }); built.push(kernel); return kernel; };
    const first = round(1, 60), second = round(2, 45);
    const a = await warmKernel("job-a", first, 6, build);
    await a.statistics(first.initial(), draw);
    await a.dispose();
    const b = await warmKernel("job-a", second, 6, build);
    const warm = await b.statistics(second.initial(), draw);
    const gram = Array.from(warm.gram), rhs = Array.from(warm.rhs), phi = warm.phi;
    expect(built.length).toBe(1);
    const fresh = await onnxKernel(second, 6, 0, { threads: 1 });
    const cold = await fresh.statistics(second.initial(), draw);
    expect(gram).toEqual(Array.from(cold.gram));
    expect(rhs).toEqual(Array.from(cold.rhs));
    expect(phi).toBe(cold.phi);
    await fresh.dispose();
    await b.dispose();
    // another K is another kernel; another job releases this job's
    await (await warmKernel("job-a", second, 4, build)).dispose();
    expect(built.length).toBe(2);
    await (await warmKernel("job-b", second, 4, build)).dispose();
    expect(built.length).toBe(3);
  });

  it("gives uses that overlap a kernel each, each with its own problem's statistics", async () => {
    const built: EnsembleKernel[] = [];
    const build = async (p: NetworkProblem, k: number) => { const kernel = await onnxKernel(p, k, 0, { threads: 1 }); built.push(kernel); return kernel; };
    const shards = [round(3, 50), round(4, 70)];
    // two shards' tasks at once, as the local engine runs them on one thread
    const both = await Promise.all(shards.map(async (p) => {
      const kernel = await warmKernel("job-d", p, 5, build);
      const s = await kernel.statistics(p.initial(), draw);
      const out = { gram: Array.from(s.gram), phi: s.phi };
      await kernel.dispose();
      return out;
    }));
    expect(built.length).toBe(2);
    for (const [i, p] of shards.entries()) {
      const fresh = await onnxKernel(p, 5, 0, { threads: 1 });
      const s = await fresh.statistics(p.initial(), draw);
      expect(both[i].gram).toEqual(Array.from(s.gram));
      expect(both[i].phi).toBe(s.phi);
      await fresh.dispose();
    }
    // and later uses take the two idle kernels again
    await Promise.all(shards.map(async (p) => (await warmKernel("job-d", p, 5, build)).dispose()));
    expect(built.length).toBe(2);
  });

  it("builds a kernel sized by its batch for every use", async () => {
    let builds = 0;
    const build = async (p: NetworkProblem, k: number) => { builds++; return referenceKernel(p, k); };
    for (const p of [round(1, 60), round(2, 45)]) {
      const kernel = await warmKernel("job-c", p, 5, build);
      const s = await kernel.statistics(p.initial(), draw);
      expect(s.gram.length).toBe(25);
      await kernel.dispose();
    }
    expect(builds).toBe(2);
  });
});
