// The gpu kernel (gpu.js) against the onnx kernel: same θ, same draw, same batch, float32 tolerance.
// CI has no GPU: gpu.js runs its fallbacks here ("cpu", plain JavaScript; "gpu" picks webasm
// where no WebGL context exists), which compile the same kernel sources the GPU runs.
import { describe, expect, it } from "vitest";
import type { Dataset } from "../../shared/data/types.ts";
import { randomClassification, relDiff } from "../support/synthetic.ts";
import { gpuKernel } from "../../shared/kernels/gpu.ts";
import { onnxKernel } from "../../shared/kernels/onnx.ts";
import type { Activation } from "../../shared/models/activations.ts";
import { networkProblem } from "../../shared/problems/network.ts";

const dataset = (rows: number, features: number, classes: number): Dataset =>
  randomClassification(rows, features, classes, 10, 4, 0);

const ds = dataset(70, 10, 3);
type Case = [string, number[], Activation, "cross-entropy" | "least-squares", number];
const cases: Case[] = [
  ["tanh, cross-entropy", [6], "tanh", "cross-entropy", 0],
  ["relu, two hidden layers", [6, 5], "relu", "cross-entropy", 0],
  ["sigmoid, least squares", [5], "sigmoid", "least-squares", 0],
  ["gelu, with regularization", [4], "gelu", "cross-entropy", 0.1],
  ["linear model", [], "tanh", "cross-entropy", 0],
];
const modes = ["cpu", "gpu"] as const;

describe("gpu kernel (gpu.js fallbacks) = onnx kernel to float32 tolerance", () => {
  it.each(modes.flatMap((mode) => cases.map((c) => [mode, ...c] as const)))(
    "%s mode: %s",
    async (mode, _label, hidden, activation, loss, alpha) => {
      const problem = networkProblem({
        model: { type: "mlp", inputs: 10, hidden, outputs: 3, activation },
        dataset: ds,
        loss,
        batchSize: 40,
        batchSeed: 1,
        initSeed: 2,
      });
      const on = problem.at(3);
      const K = 6;
      const oracle = await onnxKernel(problem, K, { threads: 1 });
      const gpu = await gpuKernel(problem, K, { mode, memoryBudgetBytes: 2 * 4 * (K + 1) * 6 * 16 });
      expect(gpu.name).toBe("gpu");
      if (mode === "cpu") expect(gpu.backend).toBe("cpu");
      const theta = problem.initial();
      const draw = { sigma: 0.1, kind: "gaussian" as const, seed: 9, iteration: 3 };
      const a = await oracle.statistics(theta, draw, on);
      const gram = Float64Array.from(a.gram),
        rhs = Float64Array.from(a.rhs);
      const b = await gpu.statistics(theta, draw, on);
      expect(b.evaluations).toBe(K + 1);
      expect(Math.abs(b.phi - a.phi) / Math.abs(a.phi)).toBeLessThan(1e-5);
      expect(relDiff(b.gram, gram)).toBeLessThan(1e-3);
      expect(relDiff(b.rhs, rhs)).toBeLessThan(1e-3);
      expect(Math.abs(b.accuracy! - a.accuracy!)).toBeLessThanOrEqual(1 / 40);
      const s = Float64Array.from({ length: K }, (_, j) => j - 2);
      const d1 = new Float64Array(problem.dimension),
        d2 = new Float64Array(problem.dimension);
      oracle.direction(s, d1);
      gpu.direction(s, d2);
      expect(d2).toEqual(d1);
      const trial = Float64Array.from(theta, (v, i) => v + 0.2 * d1[i]);
      const phiOracle = await oracle.objective(trial, on);
      expect(Math.abs((await gpu.objective(trial, on)) - phiOracle) / phiOracle).toBeLessThan(1e-5);
      const rows = ds.test.rows;
      expect(
        relDiff(await gpu.predict!(trial, ds.test.x, rows), await oracle.predict!(trial, ds.test.x, rows)),
      ).toBeLessThan(1e-4);
      await oracle.dispose();
      await gpu.dispose();
    },
  );

  it("refuses the CNN with a clear message", async () => {
    const img: Dataset = { ...ds, features: 64 };
    const problem = networkProblem({
      model: { type: "cnn", input: [1, 8, 8], channels: [2], kernel: 3, pool: 2, outputs: 3, activation: "tanh" },
      dataset: {
        ...img,
        train: { ...img.train, x: new Float32Array(img.train.rows * 64) },
        test: { ...img.test, x: new Float32Array(img.test.rows * 64) },
      },
      loss: "cross-entropy",
      batchSeed: 1,
      initSeed: 2,
    });
    await expect(gpuKernel(problem, 3, { mode: "cpu" })).rejects.toThrow(
      /gpu kernel runs MLP models; use the onnx kernel for the cnn/,
    );
  });
});
