// The onnx kernel against the reference kernel (the oracle): same θ, same draw, same batch.
import { describe, expect, it } from "vitest";
import type { Dataset } from "../../shared/data/types.ts";
import { randomClassification, relDiff } from "../support/synthetic.ts";
import { onnxKernel } from "../../shared/kernels/onnx.ts";
import { addRegeneratedRegularization } from "../../shared/kernels/regularization.ts";
import { perturbation, type EnsembleDraw } from "../../shared/math/perturbation.ts";
import { addRegularization } from "../../shared/math/gram.ts";
import { referenceKernel } from "../../shared/kernels/reference.ts";
import { fillGaussian, Stream } from "../../shared/math/rng.ts";
import type { Activation } from "../../shared/models/activations.ts";
import { networkProblem } from "../../shared/problems/network.ts";

const dataset = (rows: number, features: number, classes: number): Dataset =>
  randomClassification(rows, features, classes, 20, 1, 3);

const ds = dataset(140, 12, 4);
const cases: [string, number[], Activation, "cross-entropy" | "least-squares"][] = [
  ["tanh, one hidden layer, cross-entropy", [8], "tanh", "cross-entropy"],
  ["relu, two hidden layers, cross-entropy", [8, 6], "relu", "cross-entropy"],
  ["sigmoid, least squares", [7], "sigmoid", "least-squares"],
  ["gelu, two hidden layers", [5, 5], "gelu", "cross-entropy"],
  ["linear model (no hidden layer)", [], "tanh", "cross-entropy"],
];

type Case = [string, number[], Activation, "cross-entropy" | "least-squares", "native" | "wasm"];
const engines: Case[] = cases.flatMap(([label, hidden, act, loss]) =>
  (["native", "wasm"] as const).map((e): Case => [`${e}: ${label}`, hidden, act, loss, e]),
);

describe("onnx kernels (native and wasm) = reference kernel to float32 tolerance", () => {
  it.each(engines)("%s", async (_label, hidden, activation, loss, engine) => {
    const problem = networkProblem({
      model: { type: "mlp", inputs: 12, hidden, outputs: 4, activation },
      dataset: ds,
      loss,
      batchSize: 50,
      batchSeed: 2,
      initSeed: 3,
    });
    const on = problem.at(4);
    const K = 9;
    const ref = referenceKernel(problem, K);
    const fast = await onnxKernel(problem, K, { threads: 1, engine });
    expect(fast.name).toBe(engine === "native" ? "onnx" : "wasm");
    const theta = problem.initial();
    const draw = { sigma: 0.05, kind: "gaussian" as const, seed: 11, iteration: 4 };
    const a = await ref.statistics(theta, draw, on);
    const gramRef = Float64Array.from(a.gram),
      rhsRef = Float64Array.from(a.rhs),
      phiRef = a.phi;
    const b = await fast.statistics(theta, draw, on);
    expect(b.evaluations).toBe(K + 1);
    // batch accuracy of θ: argmax of F(θ) against the argmax of the one-hot batch targets
    const { rows, targets } = on.batch();
    const f = new Float64Array(on.outputSize);
    on.forward(theta, f);
    let hits = 0;
    for (let r = 0; r < rows; r++) {
      const row = Array.from(f.subarray(r * 4, r * 4 + 4)),
        t = Array.from(targets.subarray(r * 4, r * 4 + 4));
      if (row.indexOf(Math.max(...row)) === t.indexOf(1)) hits++;
    }
    expect(a.accuracy).toBe(hits / rows);
    expect(Math.abs(b.accuracy! - hits / rows)).toBeLessThanOrEqual(1 / rows);
    expect(Math.abs(b.phi - phiRef) / Math.abs(phiRef)).toBeLessThan(1e-6);
    expect(relDiff(b.gram, gramRef)).toBeLessThan(1e-3);
    expect(relDiff(b.rhs, rhsRef)).toBeLessThan(1e-3);
    // the same Ω: the update directions agree to the float32 rounding of the packed members
    // (the fast kernel forms Δs from δ_j = float32(θ + ω_j) − float32(θ) rather than keep Ω)
    const s = Float64Array.from({ length: K }, (_, j) => (j % 3) - 1);
    const d1 = new Float64Array(problem.dimension),
      d2 = new Float64Array(problem.dimension);
    ref.direction(s, d1);
    fast.direction(s, d2);
    expect(relDiff(d2, d1)).toBeLessThan(1e-5);
    expect(relDiff(d2, d1)).toBeGreaterThan(0);
    const trial = Float64Array.from(theta, (v, i) => v + 0.3 * d1[i]);
    expect(
      Math.abs((await fast.objective(trial, on)) - (await ref.objective(trial, on))) /
        Math.abs(await ref.objective(trial, on)),
    ).toBeLessThan(1e-6);
    await fast.dispose();
  });
});

describe("perturbations on worker threads", () => {
  it("give bit-identical statistics to generating them on the calling thread", async () => {
    const problem = networkProblem({
      model: { type: "mlp", inputs: 12, hidden: [8], outputs: 4, activation: "tanh" },
      dataset: ds,
      loss: "cross-entropy",
      batchSize: 50,
      batchSeed: 2,
      initSeed: 3,
    });
    const on = problem.at(1);
    const theta = problem.initial();
    const draw = { sigma: 0.05, kind: "gaussian" as const, seed: 5, iteration: 1 };
    const one = await onnxKernel(problem, 7, { threads: 1, rngWorkers: 0 });
    const two = await onnxKernel(problem, 7, { threads: 1, rngWorkers: 2 });
    const a = await one.statistics(theta, draw, on);
    const gram = Float64Array.from(a.gram),
      rhs = Float64Array.from(a.rhs);
    const b = await two.statistics(theta, draw, on);
    expect(b.gram).toEqual(gram);
    expect(b.rhs).toEqual(rhs);
    const s = Float64Array.from({ length: 7 }, (_, j) => j - 3);
    const d1 = new Float64Array(problem.dimension),
      d2 = new Float64Array(problem.dimension);
    one.direction(s, d1);
    two.direction(s, d2);
    expect(d2).toEqual(d1);
    await one.dispose();
    await two.dispose();
  });
});

describe("onnx kernels for the CNN, and sample chunks", () => {
  // 1×10×10 images: conv 3×3 → 3 channels (8×8), pool 2 (4×4), conv 3×3 → 4 channels (2×2), pool 2, dense → 4 classes
  const images = dataset(140, 100, 4);
  const cnn = {
    type: "cnn" as const,
    input: [1, 10, 10] as [number, number, number],
    channels: [3, 4],
    kernel: 3,
    pool: 2,
    outputs: 4,
    activation: "tanh" as const,
  };

  it.each(["native", "wasm"] as const)("%s: equals the reference kernel", async (engine) => {
    const problem = networkProblem({
      model: cnn,
      dataset: images,
      loss: "cross-entropy",
      batchSize: 40,
      batchSeed: 1,
      initSeed: 5,
    });
    const on = problem.at(2);
    const K = 6;
    const ref = referenceKernel(problem, K);
    const fast = await onnxKernel(problem, K, { threads: 1, engine });
    const theta = problem.initial();
    const draw = { sigma: 0.05, kind: "gaussian" as const, seed: 3, iteration: 2 };
    const a = await ref.statistics(theta, draw, on);
    const gramRef = Float64Array.from(a.gram),
      rhsRef = Float64Array.from(a.rhs);
    const b = await fast.statistics(theta, draw, on);
    expect(Math.abs(b.phi - a.phi) / a.phi).toBeLessThan(1e-6);
    expect(relDiff(b.gram, gramRef)).toBeLessThan(1e-3);
    expect(relDiff(b.rhs, rhsRef)).toBeLessThan(1e-3);
    const trial = problem.initial().map((v, i) => v + 0.01 * Math.sin(i));
    expect(
      Math.abs((await fast.objective(trial, on)) - (await ref.objective(trial, on))) / (await ref.objective(trial, on)),
    ).toBeLessThan(1e-6);
    await fast.dispose();
  });

  it.each(["native", "wasm"] as const)(
    "%s: gives the same statistics when a batch runs in many small chunks",
    async (engine) => {
      const problem = networkProblem({
        model: cnn,
        dataset: images,
        loss: "cross-entropy",
        batchSize: 40,
        batchSeed: 1,
        initSeed: 5,
      });
      const on = problem.at(3);
      const theta = problem.initial();
      const draw = { sigma: 0.05, kind: "gaussian" as const, seed: 3, iteration: 3 };
      const whole = await onnxKernel(problem, 5, { threads: 1, engine });
      const a = await whole.statistics(theta, draw, on);
      const gram = Float64Array.from(a.gram),
        rhs = Float64Array.from(a.rhs);
      // a budget of 4 rows (J = 6 members × 3 channels × 8×8 activations each) forces 10 chunks per
      // run; each chunk's statistics are summed here in float64. Natively they are float64 at this K
      // (statisticsPrecision); the wasm engine's are float32, so its chunked sums differ from the
      // whole batch's at float32 rounding
      const chunked = await onnxKernel(problem, 5, { threads: 1, engine, memoryBudgetBytes: 4 * (3 * 4 * 6 * 3 * 64) });
      const b = await chunked.statistics(theta, draw, on);
      const tolerance = engine === "native" ? 1e-12 : 1e-5;
      expect(relDiff(b.gram, gram)).toBeLessThan(tolerance);
      expect(relDiff(b.rhs, rhs)).toBeLessThan(tolerance);
      expect(Math.abs(b.phi - a.phi) / a.phi).toBeLessThan(1e-12);
      expect(b.accuracy).toBe(a.accuracy);
      expect(Math.abs((await chunked.objective(theta, on)) - (await whole.objective(theta, on)))).toBeLessThan(1e-12);
      await whole.dispose();
      await chunked.dispose();
    },
  );
});

describe("full-split evaluation through the onnx forward", () => {
  it.each([
    ["MLP", { type: "mlp" as const, inputs: 100, hidden: [6], outputs: 4, activation: "tanh" as const }],
    [
      "CNN",
      {
        type: "cnn" as const,
        input: [1, 10, 10] as [number, number, number],
        channels: [3, 4],
        kernel: 3,
        pool: 2,
        outputs: 4,
        activation: "relu" as const,
      },
    ],
  ])("%s: gives the reference's loss and accuracy", async (_label, model) => {
    const data = dataset(140, 100, 4);
    const problem = networkProblem({
      model,
      dataset: data,
      loss: "cross-entropy",
      batchSize: 40,
      batchSeed: 1,
      initSeed: 2,
    });
    const kernel = await onnxKernel(problem, 3, { threads: 1 });
    const theta = problem.initial();
    const ref = await problem.evaluate!(theta);
    const fast = await problem.evaluate!(theta, kernel.predict);
    expect(Object.keys(fast).sort()).toEqual(["testAccuracy", "testLoss", "trainAccuracy", "trainLoss"]);
    expect(Math.abs(fast.trainLoss - ref.trainLoss) / ref.trainLoss).toBeLessThan(1e-6);
    expect(Math.abs(fast.testLoss - ref.testLoss) / ref.testLoss).toBeLessThan(1e-6);
    expect(fast.trainAccuracy).toBeCloseTo(ref.trainAccuracy, 2);
    expect(fast.testAccuracy).toBeCloseTo(ref.testAccuracy, 2);
    await kernel.dispose();
  });
});

describe("the ½α‖θ‖² terms from Ω regenerated in slices", () => {
  /** αΩᵀΩ and αΩᵀθ from the whole dense Ω against the regenerated ones (G starts at 1, b at −1). */
  function bothWays(
    draw: EnsembleDraw,
    k: number,
    n: number,
  ): { g1: Float64Array; b1: Float64Array; g2: Float64Array; b2: Float64Array } {
    const omega = new Float64Array(k * n);
    for (let j = 0; j < k; j++) perturbation(draw, j, omega.subarray(j * n, (j + 1) * n));
    const theta = new Float64Array(n);
    fillGaussian(theta, { seed: 3, stream: Stream.init, iteration: 0, member: 0 });
    const g1 = new Float64Array(k * k).fill(1),
      b1 = new Float64Array(k).fill(-1);
    const g2 = Float64Array.from(g1),
      b2 = Float64Array.from(b1);
    addRegularization(omega, k, n, theta, 0.7, g1, b1);
    addRegeneratedRegularization(draw, k, n, theta, 0.7, g2, b2);
    return { g1, b1, g2, b2 };
  }

  it.each(["gaussian", "rademacher"] as const)("%s: equal αΩᵀΩ and αΩᵀθ from the whole Ω to rounding", (kind) => {
    const n = 9001; // three slices, the last partial
    const { g1, b1, g2, b2 } = bothWays({ sigma: 0.3, kind, seed: 8, iteration: 2 }, 5, n);
    expect(relDiff(g2, g1)).toBeLessThan(1e-12);
    expect(relDiff(b2, b1)).toBeLessThan(1e-12);
    // and the terms are really there: G − 1 ≈ 0.7·σ²·n on the diagonal
    expect(g2[0] - 1).toBeGreaterThan(0.5 * 0.7 * 0.09 * n);
  });

  it.each([1, 3])(
    "low-rank rank %i: the factored blocks' terms from the factors equal those of the dense members",
    (rank) => {
      // two factored blocks (9 × 7 and 7 × 5) with full-draw ranges before, between and after them
      const blocks = [
        { offset: 3, rows: 9, cols: 7 },
        { offset: 70, rows: 7, cols: 5 },
      ];
      const { g1, b1, g2, b2 } = bothWays(
        { sigma: 0.3, kind: "gaussian", seed: 8, iteration: 2, lowRank: { rank, blocks } },
        6,
        70 + 35 + 4,
      );
      expect(relDiff(g2, g1)).toBeLessThan(1e-12);
      expect(relDiff(b2, b1)).toBeLessThan(1e-12);
      expect(g2[1] - 1).not.toBe(0);
    },
  );
});
