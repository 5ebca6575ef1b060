// d = Ωs formed from the draw alone (shared/distributed/direction.ts) against each kernel's own
// direction from the members its forward evaluated: bit for bit, for every backend and member
// form, so the workflow's reducer takes the in-process run's steps.
import { describe, expect, it } from "vitest";
import { memberDirection } from "../../shared/distributed/direction.ts";
import { batchedKernel } from "../../shared/kernels/batched.ts";
import { gpuKernel } from "../../shared/kernels/gpu.ts";
import { onnxKernel } from "../../shared/kernels/onnx.ts";
import { referenceKernel } from "../../shared/kernels/reference.ts";
import type { EnsembleKernel } from "../../shared/kernels/types.ts";
import { factoredBlocks, type EnsembleDraw } from "../../shared/math/perturbation.ts";
import { denseMatrices, type NetworkModel } from "../../shared/models/model.ts";
import { networkProblem, type NetworkProblem } from "../../shared/problems/network.ts";
import { quadratic } from "../../shared/problems/quadratic.ts";
import { randomClassification } from "../support/synthetic.ts";

const mlp: NetworkModel = { type: "mlp", inputs: 12, hidden: [9, 6], outputs: 4, activation: "tanh" };
const cnn: NetworkModel = {
  type: "cnn",
  input: [1, 10, 10],
  channels: [3, 4],
  kernel: 3,
  pool: 2,
  outputs: 4,
  activation: "tanh",
};
const problemOf = (model: NetworkModel) => {
  const features = model.type === "mlp" ? model.inputs : 100;
  return networkProblem({
    model,
    dataset: randomClassification(80, features, 4, 20, 3, 1),
    loss: "cross-entropy",
    batchSize: 30,
    batchSeed: 2,
    initSeed: 4,
  });
};
const draw = (model: NetworkModel, rank: number): EnsembleDraw => ({
  sigma: 0.07,
  kind: "gaussian",
  seed: 5,
  iteration: 3,
  ...(rank > 0 ? { lowRank: { rank, blocks: factoredBlocks(denseMatrices(model), rank) } } : {}),
});

/** The kernel's direction after its statistics, and the one formed from the draw. */
async function both(kernel: EnsembleKernel<NetworkProblem>, problem: NetworkProblem, d: EnsembleDraw) {
  const theta = problem.initial().map((v, i) => v + 0.01 * Math.cos(i));
  await kernel.statistics(theta, d, problem.at(3));
  const s = Float64Array.from({ length: kernel.k }, (_, j) => Math.sin(1.3 * j + 0.2) * (j % 3 === 0 ? 1e3 : 1));
  const own = new Float64Array(theta.length),
    formed = new Float64Array(theta.length);
  kernel.direction(s, own);
  memberDirection(kernel.members, d, theta, s, formed);
  await kernel.dispose();
  return { own, formed };
}

describe("d = Ωs from the draw equals the kernel's own, bit for bit", () => {
  it.each([
    ["onnx, MLP, full draws, K = 9", "native", mlp, 0, 9],
    ["onnx, MLP, rank-2 draws (layer 0 factored), K = 6", "native", mlp, 2, 6],
    ["wasm, MLP, full draws, K = 4", "wasm", mlp, 0, 4],
    ["onnx, CNN, full draws, K = 7", "native", cnn, 0, 7],
    ["onnx, CNN, rank-1 draws (dense members from the factors), K = 5", "native", cnn, 1, 5],
  ] as const)("%s", async (_label, engine, model, rank, k) => {
    const problem = problemOf(model);
    const kernel = await onnxKernel(problem, k, { threads: 1, engine, rank, rngWorkers: 0 });
    expect(kernel.members.precision).toBe("float32");
    const { own, formed } = await both(kernel, problem, draw(model, rank));
    expect(Array.from(formed)).toEqual(Array.from(own));
    // and float32 members are not float64 ones: the forms differ
    const f64 = new Float64Array(own.length);
    memberDirection(
      { precision: "float64" },
      draw(model, rank),
      problem.initial(),
      Float64Array.from({ length: k }, (_, j) => Math.sin(1.3 * j + 0.2) * (j % 3 === 0 ? 1e3 : 1)),
      f64,
    );
    expect(Array.from(f64)).not.toEqual(Array.from(own));
  });

  it("gpu kernel (gpu.js on the CPU), MLP, K = 10", async () => {
    const problem = problemOf(mlp);
    const kernel = await gpuKernel(problem, 10, { mode: "cpu" });
    const { own, formed } = await both(kernel, problem, draw(mlp, 0));
    expect(Array.from(formed)).toEqual(Array.from(own));
  });

  it.each([0, 2])("reference kernel (float64 members), rank %i", async (rank) => {
    const problem = problemOf(mlp);
    const { own, formed } = await both(
      referenceKernel(problem, 8) as EnsembleKernel<NetworkProblem>,
      problem,
      draw(mlp, rank),
    );
    expect(Array.from(formed)).toEqual(Array.from(own));
  });

  it("batched kernel (a forward that runs in batches)", async () => {
    const base = quadratic({ dimension: 30, condition: 10, seed: 1 });
    const problem = {
      ...base,
      forwardBatch: async (points: Float64Array, count: number, out: Float64Array) => {
        for (let p = 0; p < count; p++)
          base.forward(
            points.subarray(p * 30, (p + 1) * 30),
            out.subarray(p * base.outputSize, (p + 1) * base.outputSize),
          );
      },
    };
    const kernel = batchedKernel(problem, 6);
    const theta = problem.initial(),
      d: EnsembleDraw = { sigma: 0.2, kind: "rademacher", seed: 1, iteration: 0 };
    await kernel.statistics(theta, d, problem);
    const s = Float64Array.from([1, -2, 3, 0.5, 7, -1]);
    const own = new Float64Array(30),
      formed = new Float64Array(30);
    kernel.direction(s, own);
    memberDirection(kernel.members, d, theta, s, formed);
    expect(Array.from(formed)).toEqual(Array.from(own));
  });
});
