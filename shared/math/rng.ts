// Seeded, counter-based random streams for perturbations and problem generation.
// Element i of member j at iteration k under seed s is a pure function of (s, stream, k, j, i):
//   Philox counter = [floor(i / lanes), j, k, stream], key = [s mod 2^32, floor(s / 2^32)].
// So a worker can regenerate one column ω_j of Ω_k alone and get the same bits as a process
// that generated all K columns. Gaussians use Box–Muller on 32-bit uniforms (4 values per
// Philox block, |z| ≤ 6.7) with log and sin/cos in plain arithmetic (fastMath.ts), so the bits do
// not depend on any libm, and the WebAssembly generator reproduces them exactly.

import { logUniform32, sinCosTurn32 } from "./fastMath.ts";
import { philox4x32 } from "./philox.ts";
import { fillGaussianBlocks } from "./rngWasm.ts";

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
  // a partial first block in JavaScript, whole blocks in WebAssembly, a partial last block in JavaScript
  while (i < end && (i % 4 !== 0 || end - i < 4)) {
    gaussianBlock(Math.floor(i / 4), c, k0, k1);
    out[offset + i - start] = scale * lanes[i & 3];
    i++;
  }
  const blocks = Math.floor((end - i) / 4);
  if (blocks > 0) {
    fillGaussianBlocks(out, offset + i - start, i / 4, blocks, c.member, c.iteration, c.stream, k0, k1, scale);
    i += 4 * blocks;
  }
  for (; i < end; i++) {
    gaussianBlock(Math.floor(i / 4), c, k0, k1);
    out[offset + i - start] = scale * lanes[i & 3];
  }
}

/** The JavaScript path alone (the twin the WebAssembly generator is tested against). */
export function fillGaussianJs(out: Float64Array, c: StreamCoordinates, start = 0, count = out.length, offset = 0, scale = 1): void {
  const [k0, k1] = keyWords(c);
  for (let i = start; i < start + count; i++) {
    gaussianBlock(Math.floor(i / 4), c, k0, k1);
    out[offset + i - start] = scale * lanes[i & 3];
  }
}

const lanes = new Float64Array(4);
const sc = new Float64Array(2);

/**
 * The 4 standard normals of Philox block b into `lanes`: Box–Muller on the word pairs (w0, w1)
 * and (w2, w3), radius √(−2 ln u) from the first word, angle 2π·w/2³² from the second.
 */
function gaussianBlock(b: number, c: StreamCoordinates, k0: number, k1: number): void {
  philox4x32(b, c.member, c.iteration, c.stream, k0, k1, block);
  const r0 = Math.sqrt(-2 * logUniform32(block[0]));
  sinCosTurn32(block[1], sc);
  lanes[0] = r0 * sc[0];
  lanes[1] = r0 * sc[1];
  const r1 = Math.sqrt(-2 * logUniform32(block[2]));
  sinCosTurn32(block[3], sc);
  lanes[2] = r1 * sc[0];
  lanes[3] = r1 * sc[1];
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
