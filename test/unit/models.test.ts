// MLP: the documented flat layout, seeded initialization, and the reference forward pass.
import { describe, expect, it } from "vitest";
import { initMlp, mlpForward, mlpLayout, type MlpSpec } from "../../shared/models/mlp.ts";
import { activate } from "../../shared/models/activations.ts";

describe("MLP layout", () => {
  it("counts 50,890 parameters for 784-64-10, as the PyTorch reference does", () => {
    expect(mlpLayout({ inputs: 784, hidden: [64], outputs: 10, activation: "tanh" }).parameterCount).toBe(
      784 * 64 + 64 + 64 * 10 + 10,
    );
  });
  it("places W_l (row-major, in×out) then b_l, layer by layer", () => {
    const { layers } = mlpLayout({ inputs: 3, hidden: [4, 2], outputs: 5, activation: "relu" });
    expect(layers).toEqual([
      { inputs: 3, outputs: 4, weightOffset: 0, biasOffset: 12 },
      { inputs: 4, outputs: 2, weightOffset: 16, biasOffset: 24 },
      { inputs: 2, outputs: 5, weightOffset: 26, biasOffset: 36 },
    ]);
  });
});

describe("MLP forward", () => {
  it("computes act(x·W0 + b0)·W1 + b1 for a hand-written 2-2-1 net", () => {
    const spec: MlpSpec = { inputs: 2, hidden: [2], outputs: 1, activation: "tanh" };
    // W0 = [[1, 2], [3, 4]] (row i = input i), b0 = [0.5, -0.5], W1 = [[2], [-1]], b1 = [0.25]
    const theta = Float64Array.of(1, 2, 3, 4, 0.5, -0.5, 2, -1, 0.25);
    const x = Float32Array.of(0.1, 0.2, -1, 0.5);
    const out = new Float64Array(2);
    mlpForward(spec, theta, x, 2, out);
    const row = (a: number, b: number) => 2 * Math.tanh(a * 1 + b * 3 + 0.5) - Math.tanh(a * 2 + b * 4 - 0.5) + 0.25;
    expect(out[0]).toBeCloseTo(row(0.1, 0.2), 6);
    expect(out[1]).toBeCloseTo(row(-1, 0.5), 6);
  });

  it.each(["tanh", "relu", "sigmoid", "gelu"] as const)("applies %s to hidden layers only", (act) => {
    const spec: MlpSpec = { inputs: 1, hidden: [1], outputs: 1, activation: act };
    const out = new Float64Array(1);
    mlpForward(spec, Float64Array.of(1, 0, 3, 1), Float32Array.of(-0.7), 1, out);
    expect(out[0]).toBeCloseTo(3 * activate(act, -0.7) + 1, 6);
  });

  it("has the textbook activations", () => {
    expect(activate("sigmoid", 0)).toBe(0.5);
    expect(activate("relu", -2)).toBe(0);
    expect(activate("gelu", 0)).toBe(0);
    expect(activate("gelu", 3)).toBeCloseTo(3 * 0.99865, 3); // ≈ x·Φ(x)
  });
});

describe("MLP initialization", () => {
  const spec: MlpSpec = { inputs: 300, hidden: [200], outputs: 10, activation: "tanh" };
  const theta = initMlp(spec, 7);
  const { layers } = mlpLayout(spec);

  it("draws Glorot-uniform weights and zero biases", () => {
    const l0 = layers[0];
    const a = Math.sqrt(6 / (300 + 200));
    const w = theta.subarray(l0.weightOffset, l0.weightOffset + 300 * 200);
    let max = 0,
      s2 = 0;
    for (const v of w) {
      max = Math.max(max, Math.abs(v));
      s2 += v * v;
    }
    expect(max).toBeLessThanOrEqual(a);
    expect(max).toBeGreaterThan(0.99 * a);
    expect(s2 / w.length).toBeCloseTo((a * a) / 3, 3);
    expect(theta.subarray(l0.biasOffset, l0.biasOffset + 200).every((v) => v === 0)).toBe(true);
  });

  it("uses He bounds for relu", () => {
    const relu = initMlp({ ...spec, activation: "relu" }, 7);
    let max = 0;
    for (let i = 0; i < 300 * 200; i++) max = Math.max(max, Math.abs(relu[i]));
    expect(max).toBeLessThanOrEqual(Math.sqrt(6 / 300));
    expect(max).toBeGreaterThan(Math.sqrt(6 / (300 + 200)));
  });

  it("is deterministic per seed", () => {
    expect(initMlp(spec, 7)).toEqual(theta);
    expect(initMlp(spec, 8)).not.toEqual(theta);
  });
});
