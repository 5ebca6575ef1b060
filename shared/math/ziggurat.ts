// Standard normals from 32-bit words by the ziggurat method (Marsaglia & Tsang 2000, 256 layers),
// with independent bits for the layer (8), the sign (1) and the magnitude (23):
//   layer i = w & 255, negative = w & 256, u = w >>> 9;  x = u · x_i / 2^23,
// accepted at once when u < k_i (the part of layer i inside the next layer up, ~99% of words).
// The rest (slowGaussian) runs the wedge and tail tests with extra words from an auxiliary Philox
// counter of the same element, so every value is still a pure function of its coordinates.
// Tables are built once with the portable log/exp of fastMath.ts, so they are the same bits on
// every platform; the WebAssembly generator reads the same tables (rngWasm.ts copies them in).

import { expSmall, logPositive, logUniform32 } from "./fastMath.ts";
import { philox4x32 } from "./philox.ts";

const LAYERS = 256;
/** right edge of the base layer, and the area of every layer (Marsaglia & Tsang, 256 layers) */
const R = 3.6541528853610088;
const V = 0.00492867323399;
const M = 2 ** 23;

/** k_i: accept u < k_i at once */
export const ZIG_K = new Uint32Array(LAYERS);
/** w_i = x_i / 2^23 */
export const ZIG_W = new Float64Array(LAYERS);
/** f_i = exp(−x_i²/2) */
const ZIG_F = new Float64Array(LAYERS);
{
  let dn = R,
    tn = R;
  const q = V / expSmall(-0.5 * dn * dn);
  ZIG_K[0] = Math.floor((dn / q) * M);
  ZIG_K[1] = 0;
  ZIG_W[0] = q / M;
  ZIG_W[LAYERS - 1] = dn / M;
  ZIG_F[0] = 1;
  ZIG_F[LAYERS - 1] = expSmall(-0.5 * dn * dn);
  for (let i = LAYERS - 2; i >= 1; i--) {
    dn = Math.sqrt(-2 * logPositive(V / dn + expSmall(-0.5 * dn * dn)));
    ZIG_K[i + 1] = Math.floor((dn / tn) * M);
    tn = dn;
    ZIG_F[i] = expSmall(-0.5 * dn * dn);
    ZIG_W[i] = dn / M;
  }
}

/** The normal of word w when it is accepted at once, else NaN (then call slowGaussian). */
export function fastGaussian(w: number): number {
  const layer = w & 255,
    u = w >>> 9;
  if (u < ZIG_K[layer]) {
    const x = u * ZIG_W[layer];
    return w & 256 ? -x : x;
  }
  return NaN;
}

/** Marks the auxiliary Philox counters of the slow path: word 3 = AUX | attempt << 8 | stream. */
const AUX = 0x80000000;
const aux = new Uint32Array(4);
const uniform = (w: number) => (w + 0.5) * 2 ** -32;

/**
 * The normal of element `index` whose word w was not accepted at once: the wedge test (layers
 * 1–127) or the tail beyond R (layer 0), each attempt drawing one auxiliary Philox block
 * [index, member, iteration, AUX | attempt << 8 | stream] under the same key.
 */
export function slowGaussian(
  w: number,
  index: number,
  member: number,
  iteration: number,
  stream: number,
  k0: number,
  k1: number,
): number {
  let layer = w & 255,
    u = w >>> 9,
    negative = (w & 256) !== 0;
  for (let attempt = 0; attempt < 1 << 23; attempt++) {
    philox4x32(index, member, iteration, (AUX | (attempt << 8) | stream) >>> 0, k0, k1, aux);
    if (layer === 0) {
      // the tail beyond R: x ~ Exp(R), accepted with probability exp(−x²/2)
      const x = -logUniform32(aux[0]) / R,
        y = -logUniform32(aux[1]);
      if (y + y >= x * x) return negative ? -(R + x) : R + x;
      continue;
    }
    const x = u * ZIG_W[layer];
    if (ZIG_F[layer] + uniform(aux[0]) * (ZIG_F[layer - 1] - ZIG_F[layer]) < expSmall(-0.5 * x * x))
      return negative ? -x : x;
    // rejected: a fresh word
    const v = aux[2];
    layer = v & 255;
    u = v >>> 9;
    negative = (v & 256) !== 0;
    if (u < ZIG_K[layer]) {
      const y = u * ZIG_W[layer];
      return negative ? -y : y;
    }
  }
  throw new Error("ziggurat: no acceptance in 2^23 attempts (impossible for a working generator)");
}
