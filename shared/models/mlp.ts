// Multi-layer perceptron: layout of the flat parameter vector, seeded initialization, and the
// float64 reference forward pass (the oracle for the fast kernels).
//
// Flat layout, layer by layer l = 0 … L−1 (sizes d_0 = inputs, d_1 … d_{L−1} = hidden, d_L = outputs):
//   W_l: d_l × d_{l+1}, row-major, used as X·W_l (entry (i, o) at offset + i·d_{l+1} + o), then
//   b_l: d_{l+1}.
// This is the layout of the PyTorch reference (Linear weights transposed). Hidden layers use the
// activation, and the last layer is linear (logits or regression outputs).
// Initialization: W ~ U(−a, a) with a = √(6/(d_in + d_out)) (Glorot) for tanh/sigmoid and
// a = √(6/d_in) (He) for relu/gelu; biases 0. The uniforms come from the counter-based RNG.

import { fillUniform, Stream } from "../math/rng.ts";
import { activateInPlace, type Activation } from "./activations.ts";

export interface MlpSpec {
  inputs: number;
  hidden: readonly number[];
  outputs: number;
  activation: Activation;
}

export interface DenseLayer {
  inputs: number;
  outputs: number;
  weightOffset: number;
  biasOffset: number;
}

export interface MlpLayout {
  layers: DenseLayer[];
  parameterCount: number;
}

export function mlpLayout(spec: MlpSpec): MlpLayout {
  const sizes = [spec.inputs, ...spec.hidden, spec.outputs];
  const layers: DenseLayer[] = [];
  let offset = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const inputs = sizes[l],
      outputs = sizes[l + 1];
    layers.push({ inputs, outputs, weightOffset: offset, biasOffset: offset + inputs * outputs });
    offset += inputs * outputs + outputs;
  }
  return { layers, parameterCount: offset };
}

export function initMlp(spec: MlpSpec, seed: number): Float64Array {
  const { layers, parameterCount } = mlpLayout(spec);
  const theta = new Float64Array(parameterCount);
  const he = spec.activation === "relu" || spec.activation === "gelu";
  layers.forEach((layer, l) => {
    const a = he ? Math.sqrt(6 / layer.inputs) : Math.sqrt(6 / (layer.inputs + layer.outputs));
    const count = layer.inputs * layer.outputs;
    fillUniform(theta, { seed, stream: Stream.init, iteration: 0, member: l }, 0, count, layer.weightOffset);
    for (let i = 0; i < count; i++) theta[layer.weightOffset + i] = a * (2 * theta[layer.weightOffset + i] - 1);
  });
  return theta;
}

/**
 * Reference forward pass in float64: x is m×inputs (row-major), out receives m×outputs.
 * Simple loops, meant to be obviously correct rather than fast.
 */
export function mlpForward(
  spec: MlpSpec,
  theta: ArrayLike<number>,
  x: ArrayLike<number>,
  m: number,
  out: Float64Array,
): void {
  const { layers } = mlpLayout(spec);
  let input: ArrayLike<number> = x;
  for (let l = 0; l < layers.length; l++) {
    const { inputs, outputs, weightOffset, biasOffset } = layers[l];
    const last = l === layers.length - 1;
    const z = last ? out : new Float64Array(m * outputs);
    for (let i = 0; i < m; i++) {
      for (let o = 0; o < outputs; o++) z[i * outputs + o] = theta[biasOffset + o];
      for (let k = 0; k < inputs; k++) {
        const xik = input[i * inputs + k];
        if (xik === 0) continue;
        const w = weightOffset + k * outputs;
        for (let o = 0; o < outputs; o++) z[i * outputs + o] += xik * theta[w + o];
      }
    }
    if (!last) activateInPlace(spec.activation, z, m * outputs);
    input = z;
  }
}
