// Low-rank perturbations (shared/math/perturbation.ts): the factored blocks have the second moments
// of a full Gaussian draw and rank r, the rest is the full draw itself, slices agree with whole
// members, and a low-rank job takes the same steps in process and through the sharded rounds.
import { describe, expect, it } from "vitest";
import { shardPlan, type ShardData } from "../../shared/distributed/evaluateShard.ts";
import { optimizeAll } from "../../shared/enkf/optimize.ts";
import { onnxKernel } from "../../shared/kernels/onnx.ts";
import { referenceKernel } from "../../shared/kernels/reference.ts";
import {
  factoredBlocks,
  perturbation,
  perturbationRange,
  regeneratedDirection,
  type EnsembleDraw,
} from "../../shared/math/perturbation.ts";
import { combineRows } from "../../shared/math/gram.ts";
import { denseMatrices } from "../../shared/models/model.ts";
import { networkProblem } from "../../shared/problems/network.ts";
import { JobSpec, ModifiedEnkfOptimizer, StopSpec } from "../../shared/spec/job.ts";
import { runRounds } from "../../shared/workflow/runRounds.ts";
import { randomClassification, relDiff } from "../support/synthetic.ts";

// an MLP 6-5-4-3: W0 (6×5), W1 (5×4) and W2 (4×3) are factored at ranks 1 and 2; the biases are drawn in full
const model = { type: "mlp" as const, inputs: 6, hidden: [5, 4], outputs: 3, activation: "tanh" as const };
const matrices = denseMatrices(model);
const n = 6 * 5 + 5 + 5 * 4 + 4 + 4 * 3 + 3;
const draw = (rank: number, iteration = 3): EnsembleDraw => ({
  sigma: 0.3,
  kind: "gaussian",
  seed: 5,
  iteration,
  lowRank: { rank, blocks: factoredBlocks(matrices, rank) },
});
const full = (iteration = 3): EnsembleDraw => ({ sigma: 0.3, kind: "gaussian", seed: 5, iteration });

describe("low-rank draws", () => {
  it("factor exactly the dense weight matrices with min(d_in, d_out) > r", () => {
    expect(matrices.map((m) => [m.offset, m.rows, m.cols])).toEqual([
      [0, 6, 5],
      [35, 5, 4],
      [59, 4, 3],
    ]);
    expect(factoredBlocks(matrices, 3).map((m) => m.offset)).toEqual([0, 35]);
    expect(factoredBlocks(matrices, 4).map((m) => m.offset)).toEqual([0]);
    expect(factoredBlocks(matrices, 5)).toEqual([]);
  });

  it("keep the full Gaussian draw outside the blocks, bit for bit, and give a block of rank r", () => {
    const w = new Float64Array(n),
      g = new Float64Array(n);
    for (const rank of [1, 2]) {
      for (let j = 0; j < 5; j++) {
        perturbation(draw(rank), j, w);
        perturbation(full(), j, g);
        for (const m of matrices) {
          for (let o = 0; o < m.cols; o++)
            expect(w[m.offset + m.rows * m.cols + o]).toBe(g[m.offset + m.rows * m.cols + o]);
        }
        // rank 1: every 2×2 minor of a block vanishes; rank 2: every 3×3 minor
        const W = (i: number, o: number) => w[i * 5 + o];
        if (rank === 1) expect(Math.abs(W(0, 0) * W(2, 3) - W(0, 3) * W(2, 0))).toBeLessThan(1e-14);
        const det3 = (r: number[], c: number[]) =>
          W(r[0], c[0]) * (W(r[1], c[1]) * W(r[2], c[2]) - W(r[1], c[2]) * W(r[2], c[1])) -
          W(r[0], c[1]) * (W(r[1], c[0]) * W(r[2], c[2]) - W(r[1], c[2]) * W(r[2], c[0])) +
          W(r[0], c[2]) * (W(r[1], c[0]) * W(r[2], c[1]) - W(r[1], c[1]) * W(r[2], c[0]));
        expect(Math.abs(det3([0, 2, 5], [1, 3, 4]))).toBeLessThan(1e-13);
        expect(Math.abs(W(0, 0) * W(2, 3) - W(0, 3) * W(2, 0))).toBeGreaterThan(rank === 1 ? -1 : 1e-8);
      }
    }
  });

  it("have the second moments of a full Gaussian draw: variance σ² per entry, uncorrelated entries", () => {
    const members = 6000,
      w = new Float64Array(n);
    for (const rank of [1, 3]) {
      let s00 = 0,
        s01 = 0,
        s11 = 0,
        sBias = 0;
      for (let j = 0; j < members; j++) {
        perturbation(draw(rank), j, w);
        // W0[0,0], W0[0,1] (same row: they share A's row) and a bias
        s00 += w[0] * w[0];
        s01 += w[0] * w[1];
        s11 += w[1] * w[1];
        sBias += w[30] * w[30];
      }
      const v = 0.3 * 0.3;
      expect(Math.abs(s00 / members / v - 1)).toBeLessThan(0.08);
      expect(Math.abs(s11 / members / v - 1)).toBeLessThan(0.08);
      expect(Math.abs(sBias / members / v - 1)).toBeLessThan(0.08);
      expect(Math.abs(s01 / Math.sqrt(s00 * s11))).toBeLessThan(0.06);
    }
  });

  it("give the same bits in slices as whole (the regularization's slices, the workers' members)", () => {
    const whole = new Float64Array(n),
      parts = new Float64Array(n);
    perturbation(draw(2), 7, whole);
    for (let i0 = 0; i0 < n; i0 += 11) perturbationRange(draw(2), 7, i0, Math.min(11, n - i0), parts, i0);
    expect(Array.from(parts)).toEqual(Array.from(whole));
  });

  it("are refused for a built-in problem, which has no weight matrices", () => {
    const r = JobSpec.safeParse({
      name: "q",
      problem: { type: "quadratic", dimension: 10 },
      optimizer: { method: "modified-enkf", ensembleSize: 4, perturbation: { type: "low-rank", rank: 1 } },
    });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0].path).toEqual(["optimizer", "perturbation"]);
    expect(r.error!.issues[0].message).toMatch(/dense weight matrices; problem "quadratic" has none/);
  });
});

describe("the low-rank update", () => {
  it("forms d = Ωs from the factors as the dense members would, at ranks 1 and 2", () => {
    for (const rank of [1, 2]) {
      const k = 7,
        s = Float64Array.from({ length: k }, (_, j) => Math.cos(3 * j + 1));
      const omega = new Float64Array(k * n);
      for (let j = 0; j < k; j++) perturbation(draw(rank), j, omega.subarray(j * n, (j + 1) * n));
      const dense = new Float64Array(n),
        factored = new Float64Array(n);
      combineRows(omega, k, n, s, dense);
      regeneratedDirection(draw(rank), s, factored);
      expect(relDiff(factored, dense)).toBeLessThan(1e-13);
      // and the full-draw entries (the last bias) are exactly the dense sums' entries
      expect(Array.from(factored.subarray(n - 3))).toEqual(Array.from(dense.subarray(n - 3)));
    }
  });
});

describe("the factored onnx kernel", () => {
  // one hidden layer, so layer 0 (6×5) is fed as factors and layer 1 (5×3) densely from its factors
  const net = { type: "mlp" as const, inputs: 6, hidden: [5], outputs: 3, activation: "tanh" as const };
  const ds = randomClassification(300, 6, 3, 20, 9, 0);
  const problem = networkProblem({
    model: net,
    dataset: ds,
    loss: "cross-entropy",
    batchSize: 120,
    batchSeed: 4,
    initSeed: 1,
    lossScale: 1,
  });
  const lowRank = (k: number): EnsembleDraw => ({
    sigma: 0.2,
    kind: "gaussian",
    seed: 8,
    iteration: 2,
    lowRank: { rank: 1, blocks: factoredBlocks(denseMatrices(net), 1) },
  });

  it.each(["native", "wasm"] as const)(
    "%s: equals the reference kernel on the dense members built from the same factors, with " +
      "the Gram in row blocks (K = 400)",
    async (engine) => {
      const on = problem.at(2);
      const k = 400,
        theta = problem.initial();
      const ref = referenceKernel(problem, k);
      const a = await ref.statistics(theta, lowRank(k), on);
      const fast = await onnxKernel(problem, k, { threads: 1, engine, rank: 1, memoryBudgetBytes: 2 ** 20 });
      const b = await fast.statistics(theta, lowRank(k), on);
      expect(relDiff(b.gram, a.gram)).toBeLessThan(1e-4);
      expect(relDiff(b.rhs, a.rhs)).toBeLessThan(1e-4);
      expect(Math.abs(b.phi - a.phi) / a.phi).toBeLessThan(1e-6);
      // the mirrored lower triangle is the upper one
      for (const [i, j] of [
        [0, 399],
        [250, 10],
        [399, 200],
      ])
        expect(b.gram[i * k + j]).toBe(b.gram[j * k + i]);
      const s = Float64Array.from({ length: k }, (_, j) => Math.sin(j + 0.5));
      const dRef = new Float64Array(theta.length),
        dFast = new Float64Array(theta.length);
      ref.direction(s, dRef);
      fast.direction(s, dFast);
      expect(relDiff(dFast, dRef)).toBeLessThan(1e-6);
      // bitwise the same on a second kernel
      const again = await onnxKernel(problem, k, { threads: 1, engine, rank: 1, memoryBudgetBytes: 2 ** 20 });
      const c = await again.statistics(theta, lowRank(k), on);
      expect(Array.from(c.gram)).toEqual(Array.from(b.gram));
      await Promise.all([fast.dispose(), again.dispose()]);
    },
  );

  it("refuses a draw of another rank", async () => {
    const fast = await onnxKernel(problem, 4, { threads: 1, rank: 1 });
    await expect(
      fast.statistics(problem.initial(), { sigma: 0.2, kind: "gaussian", seed: 8, iteration: 2 }, problem.at(2)),
    ).rejects.toThrow(/built for rank-1 draws; the draw is full/);
    await fast.dispose();
  });
});

describe("a low-rank job", () => {
  const ds = randomClassification(200, 6, 3, 20, 9, 0);
  const problem = networkProblem({
    model,
    dataset: ds,
    loss: "cross-entropy",
    batchSize: 80,
    batchSeed: 4,
    initSeed: 1,
    lossScale: 1,
  });

  it(
    "gets the reference kernel's statistics from the onnx kernel on the same low-rank draw, to " + "float32 tolerance",
    async () => {
      const on = problem.at(2);
      const ref = referenceKernel(problem, 9),
        fast = await onnxKernel(problem, 9, { threads: 1 });
      const theta = problem.initial();
      const a = await ref.statistics(theta, draw(1, 2), on);
      const gram = Float64Array.from(a.gram),
        rhs = Float64Array.from(a.rhs);
      const b = await fast.statistics(theta, draw(1, 2), on);
      expect(relDiff(b.gram, gram)).toBeLessThan(1e-3);
      expect(relDiff(b.rhs, rhs)).toBeLessThan(1e-3);
      await fast.dispose();
    },
  );

  it(
    "takes the in-process steps through the sharded rounds: bitwise with 1 shard, to rounding " +
      "with 4, with regularization",
    async () => {
      const spec = ModifiedEnkfOptimizer.parse({
        method: "modified-enkf",
        ensembleSize: 8,
        gamma: { relative: 0.1 },
        seed: 3,
        batchSize: 80,
        perturbation: { type: "low-rank", rank: 1 },
      });
      const stop = StopSpec.parse({ maxIterations: 15 });
      const local = await optimizeAll({
        problem,
        optimizer: spec,
        stop,
        regularization: 0.01,
        kernel: referenceKernel(problem, 8),
      });
      expect(local.history.length).toBe(15);
      expect(local.history.filter((h) => h.accepted).length).toBeGreaterThan(10);
      const shards = (count: number): ShardData[] =>
        shardPlan(ds.train.rows, count).map((slice) => ({
          model,
          loss: "cross-entropy",
          kind: "classification",
          outputs: 3,
          slice,
          trainRows: ds.train.rows,
          batchSize: 80,
          batchSeed: 4,
          rows: {
            x: ds.train.x.subarray(slice.start * 6, slice.end * 6),
            labels: ds.train.labels!.subarray(slice.start, slice.end),
            rows: slice.end - slice.start,
          },
        }));
      const one = await runRounds({
        spec,
        stop,
        alpha: 0.01,
        shards: shards(1),
        theta0: problem.initial(),
        kernel: async (p, k) => referenceKernel(p, k),
      });
      expect(Array.from(one.result.theta)).toEqual(Array.from(local.theta));
      const four = await runRounds({
        spec,
        stop,
        alpha: 0.01,
        shards: shards(4),
        theta0: problem.initial(),
        kernel: async (p, k) => referenceKernel(p, k),
      });
      expect(relDiff(four.result.theta, local.theta)).toBeLessThan(1e-9);
      // and not the full Gaussian run: the draw really changed
      const gaussian = await optimizeAll({
        problem,
        optimizer: { ...spec, perturbation: "gaussian" },
        stop,
        regularization: 0.01,
        kernel: referenceKernel(problem, 8),
      });
      expect(relDiff(gaussian.theta, local.theta)).toBeGreaterThan(1e-3);
    },
  );
});
