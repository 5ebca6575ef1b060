// Packs the parameter vectors of J CNN ensemble members into the batched forward's float32 tensors:
//   conv l:  W[J·c_out, c_in, k, k], B[J·c_out];   dense:  W[J, F, C], B[J, 1, C]
// (each layer's members are contiguous blocks), and combines them back into d = Ωs (pack.ts's
// combine, the MLP's arithmetic).

import { cnnLayout, type CnnSpec } from "../models/cnn.ts";
import { combineBlocks, copySum, type PackedLayer } from "./pack.ts";

/** CNN tensors for J members: conv l W[J·c_out, c_in, k, k], B[J·c_out]; dense W[J, F, C], B[J, 1, C]. */
export function allocatePackedCnn(spec: CnnSpec, members: number, shared = false): PackedLayer[] {
  const f32 = (count: number) =>
    new Float32Array(shared ? new SharedArrayBuffer(4 * count) : new ArrayBuffer(4 * count));
  const { convs, dense } = cnnLayout(spec);
  const k2 = spec.kernel * spec.kernel;
  return [
    ...convs.map((l) => ({
      weights: f32(members * l.cout * l.cin * k2),
      bias: f32(members * l.cout),
      weightDims: [members * l.cout, l.cin, spec.kernel, spec.kernel],
      biasDims: [members * l.cout],
    })),
    {
      weights: f32(members * dense.inputs * dense.outputs),
      bias: f32(members * dense.outputs),
      weightDims: [members, dense.inputs, dense.outputs],
      biasDims: [members, 1, dense.outputs],
    },
  ];
}

/** Each CNN layer's weight and bias blocks in θ: offsets and sizes (one packed layer each). */
function cnnBlocks(spec: CnnSpec): { w: number; wsize: number; b: number; bsize: number }[] {
  const { convs, dense } = cnnLayout(spec);
  const k2 = spec.kernel * spec.kernel;
  return [
    ...convs.map((l) => ({ w: l.weightOffset, wsize: l.cout * l.cin * k2, b: l.biasOffset, bsize: l.cout })),
    { w: dense.weightOffset, wsize: dense.inputs * dense.outputs, b: dense.biasOffset, bsize: dense.outputs },
  ];
}

/**
 * Member j's CNN parameters (params + delta when given) into the packed tensors: each layer's block is contiguous per
 * member.
 */
export function packCnnMember(
  spec: CnnSpec,
  packed: PackedLayer[],
  j: number,
  params: Float64Array,
  delta?: Float64Array,
): void {
  cnnBlocks(spec).forEach(({ w, wsize, b, bsize }, l) => {
    copySum(packed[l].weights, j * wsize, params, delta, w, wsize);
    copySum(packed[l].bias, j * bsize, params, delta, b, bsize);
  });
}

/** The CNN's packedDirection: every layer's members are contiguous blocks. */
export function packedCnnDirection(
  spec: CnnSpec,
  packed: PackedLayer[],
  members: number,
  s: Float64Array,
  out: Float64Array,
): void {
  cnnBlocks(spec).forEach(({ w, wsize, b, bsize }, l) => {
    combineBlocks(packed[l].weights, members, wsize, s, out, w);
    combineBlocks(packed[l].bias, members, bsize, s, out, b);
  });
}
