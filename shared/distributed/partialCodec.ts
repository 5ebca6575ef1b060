// The binary form of a shard partial (shardPartial.ts), the bytes every evaluate task writes and the
// reduction reads each round: K(K+1)/2 Gram values (the lower triangle) dominate it, so they travel
// in float64 or, by the job's compute.partialPrecision, in float32 (half the bytes; the reducer
// still sums in float64). Everything else stays float64: the header, the kernel's phase timings
// and Qᵀg (K values).
//
// Layout: "EKP3" (4 bytes), the Gram's precision (uint32: 8 float64, 4 float32), then float64
// [shard, k, rows, phi, correct, members (formCode), timings count], the timings, Qᵀg (K), and
// the packed Gram in its precision.

import type { MemberForm } from "../kernels/types.ts";
import { PARTIAL_PHASES, triangleSize, type ShardPartial } from "./shardPartial.ts";

export type PartialPrecision = "float64" | "float32";

/** The members' form as one number: NaN none, −1 float64, r ≥ 0 float32 with layer 0 factored at rank r. */
const formCode = (m?: MemberForm) => (!m ? NaN : m.precision === "float64" ? -1 : m.factoredRank);
const formOf = (c: number): MemberForm | undefined =>
  Number.isNaN(c) ? undefined : c < 0 ? { precision: "float64" } : { precision: "float32", factoredRank: c };

const MAGIC = 0x33504b45; // "EKP3", little-endian
const HEADER = 7;

/** Bytes of a partial of K members in a precision (without timings: add 8 per phase). */
export function partialBytes(k: number, precision: PartialPrecision = "float64", timings = 0): number {
  return 8 + 8 * (HEADER + timings + k) + (precision === "float32" ? 4 : 8) * triangleSize(k);
}

export function encodePartial(p: ShardPartial, precision: PartialPrecision = "float64"): Uint8Array {
  const { k } = p;
  if (p.gram.length !== triangleSize(k) || p.rhs.length !== k)
    throw new RangeError(
      `partial of shard ${p.shard}: gram ${p.gram.length} and rhs ${p.rhs.length} do not fit K = ${k}`,
    );
  const extra = p.timings ? PARTIAL_PHASES.length : 0;
  const out = new Uint8Array(partialBytes(k, precision, extra));
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, precision === "float32" ? 4 : 8, true);
  const head = new Float64Array(out.buffer, 8, HEADER + extra + k);
  head.set([p.shard, k, p.rows, p.phi, p.correct, formCode(p.members), extra]);
  if (p.timings) head.set(p.timings.subarray(0, extra), HEADER);
  head.set(p.rhs, HEADER + extra);
  const at = 8 + 8 * (HEADER + extra + k);
  if (precision === "float32") new Float32Array(out.buffer, at, p.gram.length).set(p.gram);
  else new Float64Array(out.buffer, at, p.gram.length).set(p.gram);
  return out;
}

/** The partial in `bytes` (its Gram widened to float64); a RangeError names `what` when they are not one. */
export function decodePartial(bytes: Uint8Array, what = "partial"): ShardPartial {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  if (bytes.length < 8 + 8 * HEADER || view.getUint32(0, true) !== MAGIC)
    throw new RangeError(`${what} is not a shard partial (${bytes.length} bytes)`);
  const width = view.getUint32(4, true);
  const f64 = (i: number) => view.getFloat64(8 + 8 * i, true);
  const k = f64(1),
    extra = f64(6);
  const ok =
    (width === 4 || width === 8) &&
    Number.isInteger(k) &&
    k >= 1 &&
    (extra === 0 || extra === PARTIAL_PHASES.length) &&
    bytes.length === partialBytes(k, width === 4 ? "float32" : "float64", extra);
  if (!ok) throw new RangeError(`${what}: ${bytes.length} bytes do not fit a partial of K = ${k}`);
  // copied out of `bytes` (which may be a view of a larger buffer at any offset)
  const head = new Float64Array(bytes.slice(8, 8 + 8 * (HEADER + extra + k)).buffer);
  const body = bytes.slice(8 + 8 * (HEADER + extra + k)).buffer;
  const members = formOf(head[5]);
  const p: ShardPartial = {
    shard: head[0],
    k,
    rows: head[2],
    phi: head[3],
    correct: head[4],
    gram: width === 4 ? Float64Array.from(new Float32Array(body)) : new Float64Array(body),
    rhs: head.slice(HEADER + extra),
    ...(members ? { members } : {}),
  };
  if (extra > 0) p.timings = head.slice(HEADER, HEADER + extra);
  return p;
}
