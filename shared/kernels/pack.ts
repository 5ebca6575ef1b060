// Packs the parameter vectors of J ensemble members into the per-layer tensors of the batched
// ensemble forward (float32):
//   layer 0:  W0[D, J·H0] with entry (i, j·H0 + h) = θ_j[W0 + i·H0 + h],  B0[j·H0 + h];
//   layer l:  Wl[J, H, H'] = member j's W_l block copied whole,  Bl[J, 1, H'].
// Member j's vector is read through `member(j, out)`, so callers can form θ + ω_j on the fly.

import { mlpLayout, type MlpSpec } from "../models/mlp.ts";

export interface PackedLayer {
  weights: Float32Array;
  bias: Float32Array;
  weightDims: number[];
  biasDims: number[];
}

/** Tensors for J members; `shared` puts them in SharedArrayBuffers so worker threads can fill them. */
export function allocatePacked(spec: MlpSpec, members: number, shared = false): PackedLayer[] {
  const f32 = (count: number) => new Float32Array(shared ? new SharedArrayBuffer(4 * count) : new ArrayBuffer(4 * count));
  return mlpLayout(spec).layers.map(({ inputs, outputs }, l) => l === 0
    ? { weights: f32(inputs * members * outputs), bias: f32(members * outputs), weightDims: [inputs, members * outputs], biasDims: [members * outputs] }
    : { weights: f32(members * inputs * outputs), bias: f32(members * outputs), weightDims: [members, inputs, outputs], biasDims: [members, 1, outputs] });
}

/** Writes member j's parameters (length n) into the packed tensors for J members. */
export function packMember(spec: MlpSpec, packed: PackedLayer[], members: number, j: number, params: Float64Array): void {
  const { layers } = mlpLayout(spec);
  layers.forEach(({ inputs, outputs, weightOffset, biasOffset }, l) => {
    const { weights, bias } = packed[l];
    if (l === 0) {
      const stride = members * outputs;
      for (let i = 0; i < inputs; i++) {
        const src = weightOffset + i * outputs, dst = i * stride + j * outputs;
        for (let o = 0; o < outputs; o++) weights[dst + o] = params[src + o];
      }
    } else {
      const size = inputs * outputs, dst = j * size;
      for (let t = 0; t < size; t++) weights[dst + t] = params[weightOffset + t];
    }
    for (let o = 0; o < outputs; o++) bias[j * outputs + o] = params[biasOffset + o];
  });
}
