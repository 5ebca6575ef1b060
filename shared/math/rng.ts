// Seeded, counter-based random streams for perturbations and problem generation.
// Element i of member j at iteration k under seed s is a pure function of (s, stream, k, j, i):
//   Philox counter = [floor(i / lanes), j, k, stream], key = [s mod 2^32, floor(s / 2^32)].
// So a worker can regenerate one column ω_j of Ω_k alone and get the same bits as a process
// that generated all K columns. Gaussians use Box–Muller on 32-bit uniforms (4 values per
// Philox block, |z| ≤ 6.7); Math.log/cos/sin in V8 are its own fdlibm ports, so the bits do
// not depend on the host's libm.

import { philox4x32 } from "./philox.ts";

/** Stream tags keep the purposes of random numbers independent of each other. */
export const Stream = {
  perturbation: 0,
  ensembleInit: 1,
  problem: 2,
  batch: 3,
  init: 4,
  data: 5,
} as const;

export type PerturbationKind = "gaussian" | "rademacher";

export interface StreamCoordinates {
  seed: number;
  stream: number;
  iteration: number;
  member: number;
}

const TWO32 = 4294967296;
const INV32 = 1 / TWO32;
const TWO_PI = 2 * Math.PI;
const block = new Uint32Array(4);

function checkCoordinate(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v >= TWO32) throw new RangeError(`${name} must be an integer in [0, 2^32), got ${v}`);
}

/** Validates the coordinates and returns the Philox key words of the seed. */
function keyWords(c: StreamCoordinates): [number, number] {
  if (!Number.isSafeInteger(c.seed) || c.seed < 0) throw new RangeError(`seed must be an integer in [0, 2^53), got ${c.seed}`);
  checkCoordinate("member", c.member);
  checkCoordinate("iteration", c.iteration);
  checkCoordinate("stream", c.stream);
  return [c.seed % TWO32, Math.floor(c.seed / TWO32)];
}

/**
 * Writes standard normal values for element indices [start, start + count) of the stream
 * into out[offset ..], multiplied by `scale`.
 */
export function fillGaussian(
  out: Float64Array, c: StreamCoordinates, start = 0, count = out.length, offset = 0, scale = 1,
): void {
  const [k0, k1] = keyWords(c);
  const end = start + count;
  let i = start;
  // a leading partial block, then whole blocks of 4 written directly, then a trailing partial block
  while (i < end && (i % 4 !== 0 || end - i < 4)) {
    gaussianBlock(Math.floor(i / 4), c, k0, k1);
    out[offset + i - start] = scale * lanes[i % 4];
    i++;
  }
  for (; i + 4 <= end; i += 4) {
    philox4x32(i / 4, c.member, c.iteration, c.stream, k0, k1, block);
    const r0 = Math.sqrt(-2 * Math.log((block[0] + 0.5) * INV32));
    const a0 = TWO_PI * block[1] * INV32;
    const r1 = Math.sqrt(-2 * Math.log((block[2] + 0.5) * INV32));
    const a1 = TWO_PI * block[3] * INV32;
    const o = offset + i - start;
    // the same expressions as gaussianBlock, so every path gives the same bits
    out[o] = scale * (r0 * Math.cos(a0));
    out[o + 1] = scale * (r0 * Math.sin(a0));
    out[o + 2] = scale * (r1 * Math.cos(a1));
    out[o + 3] = scale * (r1 * Math.sin(a1));
  }
  for (; i < end; i++) {
    gaussianBlock(Math.floor(i / 4), c, k0, k1);
    out[offset + i - start] = scale * lanes[i % 4];
  }
}

const lanes = new Float64Array(4);

/** The 4 standard normals of Philox block b (two Box–Muller pairs) into `lanes`. */
function gaussianBlock(b: number, c: StreamCoordinates, k0: number, k1: number): void {
  philox4x32(b, c.member, c.iteration, c.stream, k0, k1, block);
  const r0 = Math.sqrt(-2 * Math.log((block[0] + 0.5) * INV32));
  const a0 = TWO_PI * block[1] * INV32;
  const r1 = Math.sqrt(-2 * Math.log((block[2] + 0.5) * INV32));
  const a1 = TWO_PI * block[3] * INV32;
  lanes[0] = r0 * Math.cos(a0);
  lanes[1] = r0 * Math.sin(a0);
  lanes[2] = r1 * Math.cos(a1);
  lanes[3] = r1 * Math.sin(a1);
}

/** Writes ±scale values (Rademacher) for element indices [start, start + count); 128 per block. */
export function fillRademacher(
  out: Float64Array, c: StreamCoordinates, start = 0, count = out.length, offset = 0, scale = 1,
): void {
  const [k0, k1] = keyWords(c);
  const end = start + count;
  let i = start;
  while (i < end) {
    const b = Math.floor(i / 128);
    philox4x32(b, c.member, c.iteration, c.stream, k0, k1, block);
    const stop = Math.min(end, 128 * b + 128);
    for (; i < stop; i++) {
      const bit = (block[(i >>> 5) & 3] >>> (i & 31)) & 1;
      out[offset + i - start] = bit ? -scale : scale;
    }
  }
}

/** Uniform values in [0, 1) with 32-bit resolution, for element indices [start, start + count). */
export function fillUniform(out: Float64Array, c: StreamCoordinates, start = 0, count = out.length, offset = 0): void {
  const [k0, k1] = keyWords(c);
  const end = start + count;
  let i = start;
  while (i < end) {
    const b = Math.floor(i / 4);
    philox4x32(b, c.member, c.iteration, c.stream, k0, k1, block);
    const stop = Math.min(end, 4 * b + 4);
    for (; i < stop; i++) out[offset + i - start] = block[i & 3] * INV32;
  }
}

/** Fills one perturbation column ω_j = scale · z_j of the given kind. */
export function fillPerturbation(
  kind: PerturbationKind, out: Float64Array, c: StreamCoordinates, scale = 1, start = 0, count = out.length, offset = 0,
): void {
  if (kind === "gaussian") fillGaussian(out, c, start, count, offset, scale);
  else fillRademacher(out, c, start, count, offset, scale);
}
