// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11):
// a counter-based generator. Output = bijection(counter; key), so any element of any
// stream can be computed directly from its coordinates, in any order, on any worker.
// Only 32-bit integer ops and exact float64 products are used, so bits are identical
// on every platform.

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
const M0_LO = M0 & 0xffff;
const M0_HI = M0 >>> 16;
const M1_LO = M1 & 0xffff;
const M1_HI = M1 >>> 16;

/**
 * Computes one Philox4x32-10 block. `out` receives 4 uint32 words.
 * Counter words c0..c3 and key words k0, k1 are uint32 values.
 */
export function philox4x32(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
  out: Uint32Array,
): void {
  let x0 = c0 >>> 0,
    x1 = c1 >>> 0,
    x2 = c2 >>> 0,
    x3 = c3 >>> 0;
  let key0 = k0 >>> 0,
    key1 = k1 >>> 0;
  for (let r = 0; r < 10; r++) {
    if (r > 0) {
      key0 = (key0 + W0) >>> 0;
      key1 = (key1 + W1) >>> 0;
    }
    // high words of the 64-bit products, split so every float64 product is exact (< 2^53)
    const p0 = x0 * M0_LO;
    const hi0 = Math.floor((x0 * M0_HI + Math.floor(p0 / 65536)) / 65536) >>> 0;
    const lo0 = Math.imul(x0, M0) >>> 0;
    const p1 = x2 * M1_LO;
    const hi1 = Math.floor((x2 * M1_HI + Math.floor(p1 / 65536)) / 65536) >>> 0;
    const lo1 = Math.imul(x2, M1) >>> 0;
    x0 = (hi1 ^ x1 ^ key0) >>> 0;
    x1 = lo1;
    x2 = (hi0 ^ x3 ^ key1) >>> 0;
    x3 = lo0;
  }
  out[0] = x0;
  out[1] = x1;
  out[2] = x2;
  out[3] = x3;
}
