// Seeded, counter-based random streams for perturbations and problem generation.
// Element i of member j at iteration k under seed s is a pure function of (s, stream, k, j, i):
//   Philox counter = [floor(i / lanes), j, k, stream], key = [s mod 2^32, floor(s / 2^32)].
// So a worker can regenerate one column ω_j of Ω_k alone and get the same bits as a process
// that generated all K columns. Gaussians use the ziggurat method (ziggurat.ts) on the Philox
// words, one word per value (element i takes word i mod 4 of block ⌊i/4⌋), with log and exp in
// plain arithmetic (fastMath.ts), so the bits do not depend on any libm; the WebAssembly generator
// reproduces them exactly.

import { philox4x32 } from "./philox.ts";
import { fillGaussianBlocks } from "./rngWasm.ts";
import { fastGaussian, slowGaussian } from "./ziggurat.ts";

/** Stream tags keep the purposes of random numbers independent of each other. */
export const Stream = {
  perturbation: 0,
  ensembleInit: 1,
  problem: 2,
  batch: 3,
  init: 4,
  data: 5,
  lowRank: 6,
  /** samples of a posterior (the Laplace summary's correlations) */
  posterior: 7,
  /** the ensemble Kalman sampler's noise */
  sampler: 8,
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
  if (!Number.isInteger(v) || v < 0 || v >= TWO32)
    throw new RangeError(`${name} must be an integer in [0, 2^32), got ${v}`);
}

/** Validates the coordinates and returns the Philox key words of the seed. */
function keyWords(c: StreamCoordinates): [number, number] {
  if (!Number.isSafeInteger(c.seed) || c.seed < 0)
    throw new RangeError(`seed must be an integer in [0, 2^53), got ${c.seed}`);
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
  out: Float64Array,
  c: StreamCoordinates,
  start = 0,
  count = out.length,
  offset = 0,
  scale = 1,
): void {
  const [k0, k1] = gaussianKey(c);
  const end = start + count;
  let i = start;
  // a partial first block in JavaScript, whole blocks in WebAssembly, a partial last block in JavaScript
  while (i < end && (i % 4 !== 0 || end - i < 4)) {
    out[offset + i - start] = scale * gaussianAt(i, c, k0, k1);
    i++;
  }
  const blocks = Math.floor((end - i) / 4);
  if (blocks > 0) {
    fillGaussianBlocks(out, offset + i - start, i / 4, blocks, c.member, c.iteration, c.stream, k0, k1, scale);
    i += 4 * blocks;
  }
  for (; i < end; i++) out[offset + i - start] = scale * gaussianAt(i, c, k0, k1);
}

/** The JavaScript path alone (the twin the WebAssembly generator is tested against). */
export function fillGaussianJs(
  out: Float64Array,
  c: StreamCoordinates,
  start = 0,
  count = out.length,
  offset = 0,
  scale = 1,
): void {
  const [k0, k1] = gaussianKey(c);
  for (let i = start; i < start + count; i++) out[offset + i - start] = scale * gaussianAt(i, c, k0, k1);
}

/** The key words, checking that the stream tag leaves room for the ziggurat's auxiliary counters. */
function gaussianKey(c: StreamCoordinates): [number, number] {
  const key = keyWords(c);
  if (c.stream >= 256) throw new RangeError(`Gaussian streams take a stream tag below 256, got ${c.stream}`);
  return key;
}

/** The standard normal of element i: its Philox word through the ziggurat. */
function gaussianAt(i: number, c: StreamCoordinates, k0: number, k1: number): number {
  philox4x32(Math.floor(i / 4), c.member, c.iteration, c.stream, k0, k1, block);
  const w = block[i & 3];
  const z = fastGaussian(w);
  return z === z ? z : slowGaussian(w, i, c.member, c.iteration, c.stream, k0, k1);
}

/** Writes ±scale values (Rademacher) for element indices [start, start + count); 128 per block. */
export function fillRademacher(
  out: Float64Array,
  c: StreamCoordinates,
  start = 0,
  count = out.length,
  offset = 0,
  scale = 1,
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
  kind: PerturbationKind,
  out: Float64Array,
  c: StreamCoordinates,
  scale = 1,
  start = 0,
  count = out.length,
  offset = 0,
): void {
  if (kind === "gaussian") fillGaussian(out, c, start, count, offset, scale);
  else fillRademacher(out, c, start, count, offset, scale);
}
