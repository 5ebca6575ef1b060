// Small convolutional network: for each conv layer, a valid k×k convolution (stride 1), the
// activation, and p×p max pooling (stride p); then a dense layer to the outputs. The benchmark net
// of EnKF-for-networks papers is input 1×28×28, channels [10, 20], k = 5, p = 2, dense 320 → 10.
//
// Flat layout, layer by layer: conv l: W (c_out, c_in, k, k) row-major, then b (c_out); dense:
// W (F, outputs) row-major, used as X·W with F = c·h·w flattened in (c, h, w) order, then b.
// Initialization: U(−a, a) with a = √(6/fan_in) (He) for relu/gelu, √(6/(fan_in + fan_out))
// (Glorot) otherwise, fan_in = c_in·k², fan_out = c_out·k²; biases 0.

import { fillUniform, Stream } from "../math/rng.ts";
import { activateInPlace, type Activation } from "./activations.ts";

export interface CnnSpec {
  /** channels, height, width of one input sample (its features in that order) */
  input: readonly [number, number, number];
  channels: readonly number[];
  kernel: number;
  pool: number;
  outputs: number;
  activation: Activation;
}

export interface ConvLayer {
  cin: number;
  cout: number;
  hin: number;
  win: number;
  hconv: number;
  wconv: number;
  hout: number;
  wout: number;
  weightOffset: number;
  biasOffset: number;
}
export interface CnnLayout {
  convs: ConvLayer[];
  dense: { inputs: number; outputs: number; weightOffset: number; biasOffset: number };
  parameterCount: number;
}

export function cnnLayout(spec: CnnSpec): CnnLayout {
  const k = spec.kernel,
    p = spec.pool;
  let [c, h, w] = spec.input;
  let offset = 0;
  const convs: ConvLayer[] = [];
  for (const cout of spec.channels) {
    const hconv = h - k + 1,
      wconv = w - k + 1;
    const hout = Math.floor(hconv / p),
      wout = Math.floor(wconv / p);
    if (hout < 1 || wout < 1)
      throw new RangeError(
        `the CNN shrinks a ${h}×${w} input to nothing (kernel ${k}, pool ${p}); use fewer layers or a smaller kernel`,
      );
    convs.push({
      cin: c,
      cout,
      hin: h,
      win: w,
      hconv,
      wconv,
      hout,
      wout,
      weightOffset: offset,
      biasOffset: offset + cout * c * k * k,
    });
    offset += cout * c * k * k + cout;
    c = cout;
    h = hout;
    w = wout;
  }
  const inputs = c * h * w;
  const dense = { inputs, outputs: spec.outputs, weightOffset: offset, biasOffset: offset + inputs * spec.outputs };
  return { convs, dense, parameterCount: offset + inputs * spec.outputs + spec.outputs };
}

export function initCnn(spec: CnnSpec, seed: number): Float64Array {
  const layout = cnnLayout(spec);
  const theta = new Float64Array(layout.parameterCount);
  const he = spec.activation === "relu" || spec.activation === "gelu";
  const fill = (member: number, offset: number, count: number, a: number) => {
    fillUniform(theta, { seed, stream: Stream.init, iteration: 0, member }, 0, count, offset);
    for (let i = 0; i < count; i++) theta[offset + i] = a * (2 * theta[offset + i] - 1);
  };
  const k2 = spec.kernel * spec.kernel;
  layout.convs.forEach((l, i) =>
    fill(
      i,
      l.weightOffset,
      l.cout * l.cin * k2,
      he ? Math.sqrt(6 / (l.cin * k2)) : Math.sqrt(6 / ((l.cin + l.cout) * k2)),
    ),
  );
  const d = layout.dense;
  fill(layout.convs.length, d.weightOffset, d.inputs * d.outputs, Math.sqrt(6 / (d.inputs + d.outputs)));
  return theta;
}

/** Reference forward pass in float64: x is m × (c·h·w), out receives m × outputs. */
export function cnnForward(
  spec: CnnSpec,
  theta: ArrayLike<number>,
  x: ArrayLike<number>,
  m: number,
  out: Float64Array,
): void {
  const layout = cnnLayout(spec);
  const k = spec.kernel,
    p = spec.pool;
  const [c0, h0, w0] = spec.input;
  for (let s = 0; s < m; s++) {
    let act: Float64Array = Float64Array.from({ length: c0 * h0 * w0 }, (_, i) => x[s * c0 * h0 * w0 + i]);
    for (const l of layout.convs) {
      const conv = new Float64Array(l.cout * l.hconv * l.wconv);
      for (let o = 0; o < l.cout; o++) {
        for (let y = 0; y < l.hconv; y++) {
          for (let xx = 0; xx < l.wconv; xx++) {
            let sum = theta[l.biasOffset + o];
            for (let ci = 0; ci < l.cin; ci++) {
              for (let dy = 0; dy < k; dy++) {
                for (let dx = 0; dx < k; dx++) {
                  sum +=
                    theta[l.weightOffset + ((o * l.cin + ci) * k + dy) * k + dx] *
                    act[(ci * l.hin + y + dy) * l.win + xx + dx];
                }
              }
            }
            conv[(o * l.hconv + y) * l.wconv + xx] = sum;
          }
        }
      }
      activateInPlace(spec.activation, conv);
      const pooled = new Float64Array(l.cout * l.hout * l.wout);
      for (let o = 0; o < l.cout; o++) {
        for (let y = 0; y < l.hout; y++) {
          for (let xx = 0; xx < l.wout; xx++) {
            let best = -Infinity;
            for (let dy = 0; dy < p; dy++)
              for (let dx = 0; dx < p; dx++)
                best = Math.max(best, conv[(o * l.hconv + y * p + dy) * l.wconv + xx * p + dx]);
            pooled[(o * l.hout + y) * l.wout + xx] = best;
          }
        }
      }
      act = pooled;
    }
    const d = layout.dense;
    for (let o = 0; o < d.outputs; o++) {
      let sum = theta[d.biasOffset + o];
      for (let i = 0; i < d.inputs; i++) sum += act[i] * theta[d.weightOffset + i * d.outputs + o];
      out[s * d.outputs + o] = sum;
    }
  }
}
