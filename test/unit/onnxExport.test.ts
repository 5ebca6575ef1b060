// The exported ONNX model (shared/predict/onnxExport.ts) computes what the float64 reference
// forward and the standardization compute, for an MLP and a CNN, run by onnxruntime.
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { fillGaussian, Stream } from "../../shared/math/rng.ts";
import { modelForward, parameterCount, type NetworkModel } from "../../shared/models/model.ts";
import type { ModelCard } from "../../shared/predict/modelCard.ts";
import { exportOnnx } from "../../shared/predict/onnxExport.ts";
import { predict } from "../../shared/predict/predict.ts";

function card(model: NetworkModel, features: number, kind: "classification" | "regression"): ModelCard {
  const mean = Array.from({ length: features }, (_, i) => 0.1 * i),
    scale = Array.from({ length: features }, (_, i) => 1 + 0.01 * i);
  return {
    format: "enkf-model",
    version: 1,
    kind,
    model: model as ModelCard["model"],
    theta: { file: "theta.npy", parameters: parameterCount(model) },
    features: Array.from({ length: features }, (_, i) => `f${i}`),
    standardization: { mean, scale },
    outputs: Array.from({ length: model.outputs }, (_, i) => `o${i}`),
    iteration: 0,
    metrics: {},
  };
}

describe("enkf export's ONNX model", () => {
  it.each([
    [
      "an MLP (gelu), classification",
      { type: "mlp", inputs: 6, hidden: [5, 4], outputs: 3, activation: "gelu" } as NetworkModel,
      6,
      "classification",
    ],
    [
      "a CNN (relu), classification",
      {
        type: "cnn",
        input: [1, 8, 8],
        channels: [3, 4],
        kernel: 3,
        pool: 1,
        outputs: 4,
        activation: "relu",
      } as NetworkModel,
      64,
      "classification",
    ],
    [
      "an MLP, regression",
      { type: "mlp", inputs: 3, hidden: [7], outputs: 2, activation: "tanh" } as NetworkModel,
      3,
      "regression",
    ],
  ] as const)("%s: equals the reference forward on standardized rows", async (_name, model, d, kind) => {
    const c = card(model, d, kind);
    const theta = new Float64Array(parameterCount(model));
    fillGaussian(theta, { seed: 5, stream: Stream.init, iteration: 0, member: 0 }, 0, theta.length, 0, 0.4);
    const rows = 9,
      x = new Float64Array(rows * d);
    fillGaussian(x, { seed: 6, stream: Stream.data, iteration: 0, member: 0 }, 0, x.length, 0, 2);
    const ref = predict(c, theta, { x, rows });
    // the reference forward itself, by hand: standardize, then modelForward
    const std = Float64Array.from(x, (v, i) => (v - c.standardization!.mean[i % d]) * c.standardization!.scale[i % d]);
    const direct = new Float64Array(rows * model.outputs);
    modelForward(model, theta, std, rows, direct);
    expect(Array.from(ref.outputs)).toEqual(Array.from(direct));
    const session = await ort.InferenceSession.create(exportOnnx(c, theta));
    const out = await session.run({ x: new ort.Tensor("float32", Float32Array.from(x), [rows, d]) });
    await session.release();
    const y = (kind === "classification" ? out.logits : out.output).data as Float32Array;
    for (let i = 0; i < y.length; i++)
      expect(Math.abs(y[i] - direct[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(direct[i])));
    if (kind === "classification") {
      expect(Array.from(out.label.data as BigInt64Array, Number)).toEqual(Array.from(ref.labels!.index));
      const p = out.probabilities.data as Float32Array;
      for (let i = 0; i < p.length; i++) expect(Math.abs(p[i] - ref.probabilities![i])).toBeLessThan(1e-5);
    }
  });
});
