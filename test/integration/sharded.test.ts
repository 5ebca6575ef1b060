// Statistics as sums over data shards: each shard's partial (its rows of the batch, unscaled),
// reduced in shard order, equals the statistics of the whole batch.
import { describe, expect, it } from "vitest";
import { decodePartial, encodePartial } from "../../shared/distributed/partialCodec.ts";
import {
  combinePartials,
  packLower,
  reducePartials,
  unpackSymmetric,
  type ShardPartial,
} from "../../shared/distributed/shardPartial.ts";
import { evaluateShard, shardBatchRows, shardPlan } from "../../shared/distributed/evaluateShard.ts";
import { gpuKernel } from "../../shared/kernels/gpu.ts";
import { onnxKernel } from "../../shared/kernels/onnx.ts";
import { referenceKernel } from "../../shared/kernels/reference.ts";
import { addRegularization } from "../../shared/math/gram.ts";
import { perturbation } from "../../shared/math/perturbation.ts";
import { networkProblem } from "../../shared/problems/network.ts";
import { randomClassification, relDiff } from "../support/synthetic.ts";

const ds = randomClassification(200, 6, 3, 17, 21, 0);
const model = { type: "mlp" as const, inputs: 6, hidden: [5], outputs: 3, activation: "tanh" as const };
const K = 7;

async function sharded(
  shards: number,
  loss: "cross-entropy" | "least-squares",
  batchSize: number | undefined,
  alpha: number,
  engine: "reference" | "onnx" | "gpu",
  theta: Float64Array,
  draw: { sigma: number; kind: "gaussian"; seed: number; iteration: number },
) {
  const parts: ShardPartial[] = [];
  for (const slice of shardPlan(ds.train.rows, shards)) {
    const rows = {
      x: ds.train.x.subarray(slice.start * 6, slice.end * 6),
      labels: ds.train.labels!.subarray(slice.start, slice.end),
      rows: slice.end - slice.start,
    };
    const part = await evaluateShard({
      model,
      loss,
      kind: "classification",
      outputs: 3,
      rows,
      slice,
      trainRows: ds.train.rows,
      batchSize,
      batchSeed: 4,
      iteration: draw.iteration,
      theta,
      draw,
      k: K,
      kernel:
        engine === "reference"
          ? async (p, k) => referenceKernel(p, k)
          : engine === "onnx"
            ? (p, k) => onnxKernel(p, k, { threads: 1 })
            : (p, k) => gpuKernel(p, k, { mode: "cpu" }),
    });
    // what travels between worker and reducer: the binary partial
    parts.push(decodePartial(encodePartial(part)));
  }
  return reducePartials(parts.reverse(), shards, { alpha, theta, draw });
}

describe("shard partials reduce to the whole batch's statistics", () => {
  it.each([
    ["cross-entropy", 64, 0],
    ["cross-entropy", undefined, 0],
    ["least-squares", 64, 0],
    ["cross-entropy", 64, 0.1],
  ] as const)(
    "%s, batch %s, α = %s: 1, 4 and 16 shards agree with the unsharded kernel",
    async (loss, batchSize, alpha) => {
      const whole = networkProblem({ model, dataset: ds, loss, batchSize, batchSeed: 4, initSeed: 1 });
      const on = whole.at(3);
      const theta = whole.initial();
      const draw = { sigma: 0.05, kind: "gaussian" as const, seed: 8, iteration: 3 };
      const ref = await referenceKernel(whole, K).statistics(theta, draw, on);
      // the ½α‖θ‖² term, which the reduction adds: Φ + ½α‖θ‖², G + αΩᵀΩ, b + αΩᵀθ
      ref.phi += 0.5 * alpha * theta.reduce((s, v) => s + v * v, 0);
      const n = theta.length,
        omega = new Float64Array(K * n);
      for (let j = 0; j < K; j++) perturbation(draw, j, omega.subarray(j * n, (j + 1) * n));
      addRegularization(omega, K, n, theta, alpha, ref.gram, ref.rhs);
      for (const shards of [1, 4, 16]) {
        const r = await sharded(shards, loss, batchSize, alpha, "reference", theta, draw);
        expect(r.rows).toBe(batchSize ?? ds.train.rows);
        expect(Math.abs(r.phi - ref.phi) / ref.phi).toBeLessThan(1e-12);
        expect(relDiff(r.gram, ref.gram)).toBeLessThan(1e-12);
        expect(relDiff(r.rhs, ref.rhs)).toBeLessThan(1e-12);
        expect(r.accuracy).toBe(ref.accuracy);
      }
    },
  );

  it.each(["onnx", "gpu"] as const)(
    "with the %s kernel on the workers, agrees to float32 tolerance",
    async (engine) => {
      const whole = networkProblem({
        model,
        dataset: ds,
        loss: "cross-entropy",
        batchSize: 64,
        batchSeed: 4,
        initSeed: 1,
      });
      const on = whole.at(2);
      const theta = whole.initial();
      const draw = { sigma: 0.05, kind: "gaussian" as const, seed: 8, iteration: 2 };
      const ref = await referenceKernel(whole, K).statistics(theta, draw, on);
      const r = await sharded(4, "cross-entropy", 64, 0, engine, theta, draw);
      expect(Math.abs(r.phi - ref.phi) / ref.phi).toBeLessThan(1e-6);
      expect(relDiff(r.gram, ref.gram)).toBeLessThan(1e-3);
      expect(relDiff(r.rhs, ref.rhs)).toBeLessThan(1e-3);
    },
  );
});

describe("shard plans and partials", () => {
  it("split the rows and each batch exactly, whatever the shard count", () => {
    for (const shards of [1, 3, 16]) {
      const plan = shardPlan(183, shards);
      expect(plan[0].start).toBe(0);
      expect(plan[shards - 1].end).toBe(183);
      for (let s = 1; s < shards; s++) expect(plan[s].start).toBe(plan[s - 1].end);
      const total = plan.reduce((n, slice) => n + shardBatchRows(183, 50, 9, 5, slice).length, 0);
      expect(total).toBe(50);
    }
    expect(() => shardPlan(10, 11)).toThrow(/cannot split 10 training rows into 11 shards/);
  });

  it("have a size that depends on K only, and reject missing, doubled or foreign shards", () => {
    const part = (shard: number, k: number): ShardPartial => ({
      shard,
      k,
      rows: 3,
      phi: 1,
      correct: 2,
      gram: new Float64Array((k * (k + 1)) / 2).map((_, i) => 1 + i / 3),
      rhs: new Float64Array(k).fill(2),
    });
    // the lower triangle only: K(K+1)/2 Gram values, float64 or float32
    expect(encodePartial(part(0, 1000)).length).toBe(8 + 8 * (7 + 1000) + 8 * 500500);
    expect(encodePartial(part(0, 1000), "float32").length).toBe(8 + 8 * (7 + 1000) + 4 * 500500);
    expect(decodePartial(encodePartial(part(3, 4)))).toEqual(part(3, 4));
    const narrow = decodePartial(encodePartial(part(3, 4), "float32"));
    expect(narrow.gram).toEqual(part(3, 4).gram.map(Math.fround));
    expect(narrow.rhs).toEqual(part(3, 4).rhs);
    expect(() => decodePartial(new Uint8Array(64))).toThrow(/not a shard partial/);
    expect(() => decodePartial(encodePartial(part(0, 4)).subarray(0, 100))).toThrow(/do not fit a partial of K = 4/);
    expect(() => reducePartials([part(0, 2)], 2)).toThrow(/no partial for shard 1/);
    expect(() => reducePartials([part(0, 2), part(0, 2)], 1)).toThrow(/shard 0 has two partials/);
    expect(() => reducePartials([part(0, 2), part(2, 2)], 2)).toThrow(/outside 0\.\.1/);
    expect(() => reducePartials([part(0, 2), part(1, 3)], 2)).toThrow(/shard 1 has K = 3/);
  });

  it("pack a symmetric Gram's triangle losslessly, and sum in groups to the whole sum up to rounding", () => {
    const k = 5;
    const a = new Float64Array(k * k);
    for (let i = 0; i < k; i++) for (let j = 0; j <= i; j++) a[i * k + j] = a[j * k + i] = Math.sin(i + 3 * j);
    expect(unpackSymmetric(packLower(a, k), k)).toEqual(a);
    const parts = Array.from({ length: 7 }, (_, s) => ({
      shard: s,
      k,
      rows: s + 1,
      phi: Math.cos(s),
      correct: s,
      gram: new Float64Array((k * (k + 1)) / 2).map((_, i) => Math.sin(s * 7 + i) / 3),
      rhs: new Float64Array(k).map((_, i) => Math.cos(s + i)),
    }));
    const flat = reducePartials(parts, 7);
    // a tree: groups of 3, 3 and 1, then their sums
    const groups = [parts.slice(0, 3), parts.slice(3, 6), parts.slice(6)].map((g, i) => combinePartials(g, i));
    const tree = reducePartials(groups, 3);
    expect(tree.rows).toBe(flat.rows);
    expect(relDiff(tree.gram, flat.gram)).toBeLessThan(1e-14);
    expect(relDiff(tree.rhs, flat.rhs)).toBeLessThan(1e-14);
    expect(tree.phi).toBeCloseTo(flat.phi, 14);
    // a group of one is its partial, bit for bit
    expect(combinePartials([parts[4]], 0).gram).toEqual(parts[4].gram);
  });
});
