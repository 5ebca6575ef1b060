// Dataset ⇄ the sharded binary format: pure functions from a Dataset to manifest + file bytes and
// back. Each split is cut into contiguous shards of near-equal size; decoding checks every file's
// sha256, dtype, shape and size and names the file that is wrong.

import { createHash } from "node:crypto";
import { DataError } from "./errors.ts";
import { DatasetManifest, type ShardFile } from "./manifest.ts";
import type { Dataset, Split } from "./types.ts";
import { specProblems } from "../spec/errors.ts";

export interface EncodedDataset {
  manifest: DatasetManifest;
  files: { path: string; bytes: Uint8Array }[];
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The array's bytes, a view of them (no copy: a shard file is the dataset's own rows). */
function bytesOf(a: Float32Array | Int32Array): Uint8Array {
  // the format is little-endian, as is every platform Node runs on
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Row ranges of `shards` contiguous, near-equal shards of `rows` rows. */
export function shardRanges(rows: number, shards: number): [number, number][] {
  const count = Math.max(1, Math.min(shards, rows));
  return Array.from(
    { length: count },
    (_, s) => [Math.floor((s * rows) / count), Math.floor(((s + 1) * rows) / count)] as [number, number],
  );
}

/** One shard file of the format: its manifest entry and its bytes. */
export function shardFile(
  path: string,
  data: Float32Array | Int32Array,
  shape: number[],
): { entry: ShardFile; bytes: Uint8Array } {
  const bytes = bytesOf(data);
  return {
    entry: { path, dtype: data instanceof Int32Array ? "int32" : "float32", shape, sha256: sha256(bytes) },
    bytes,
  };
}

/** A shard's file names: `<split>-<5-digit index>.x.f32` and `.y.i32` or `.y.f32`. */
export const shardName = (split: string, i: number) => `${split}-${String(i).padStart(5, "0")}`;

export function encodeShards(ds: Dataset, shards: number): EncodedDataset {
  if (!Number.isInteger(shards) || shards < 1) throw new RangeError(`shards must be a positive integer, got ${shards}`);
  const files: EncodedDataset["files"] = [];
  const file = (path: string, data: Float32Array | Int32Array, shape: number[]): ShardFile => {
    const f = shardFile(path, data, shape);
    files.push({ path, bytes: f.bytes });
    return f.entry;
  };
  const split = (name: "train" | "validation" | "test", s: Split, count = shards) => ({
    rows: s.rows,
    shards: shardRanges(s.rows, count).map(([a, b], i) => {
      const id = shardName(name, i);
      const y = s.labels
        ? file(`${id}.y.i32`, s.labels.subarray(a, b), [b - a])
        : file(`${id}.y.f32`, s.targets!.subarray(a * ds.outputs, b * ds.outputs), [b - a, ds.outputs]);
      return {
        rows: b - a,
        x: file(`${id}.x.f32`, s.x.subarray(a * ds.features, b * ds.features), [b - a, ds.features]),
        y,
      };
    }),
  });
  const manifest: DatasetManifest = {
    format: "enkf-dataset",
    version: 1,
    kind: ds.kind,
    features: ds.features,
    outputs: ds.outputs,
    names: ds.names,
    ...(ds.columns ? { columns: ds.columns } : {}),
    ...(ds.standardization ? { standardization: ds.standardization } : {}),
    // the validation split is read whole by whoever evaluates: one file pair, whatever the training shards
    splits: {
      train: split("train", ds.train),
      ...(ds.validation ? { validation: split("validation", ds.validation, 1) } : {}),
      test: split("test", ds.test),
    },
  };
  return { manifest, files };
}

/** Parses and checks a manifest.json text; errors name the field. */
export function parseManifest(text: string, where: string): DatasetManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new DataError(`${where}: malformed JSON (${(e as Error).message})`);
  }
  const r = DatasetManifest.safeParse(value);
  if (!r.success)
    throw new DataError(
      `${where}: not a dataset manifest: ${specProblems(r.error)
        .map((p) => `${p.path || "(document)"}: ${p.message}`)
        .join("; ")}`,
    );
  return r.data;
}

function checkFile(f: ShardFile, bytes: Uint8Array, where: string): void {
  const count = f.shape.reduce((a, b) => a * b, 1);
  if (bytes.byteLength !== count * 4)
    throw new DataError(
      `${where}/${f.path}: ${bytes.byteLength} bytes, expected ${count * 4} for ${f.dtype} shape ` +
        `(${f.shape.join(", ")})`,
    );
  const actual = sha256(bytes);
  if (actual !== f.sha256)
    throw new DataError(
      `${where}/${f.path}: sha256 mismatch (file ${actual.slice(0, 12)}…, manifest ` +
        `${f.sha256.slice(0, 12)}…): the shard is corrupt or was changed`,
    );
}

/** Reads and verifies one shard's files: its rows' features and labels or targets. */
async function decodeShard(
  m: DatasetManifest,
  shard: DatasetManifest["splits"]["train"]["shards"][number],
  read: (path: string) => Promise<Uint8Array>,
  where: string,
): Promise<Split> {
  const wantX = [shard.rows, m.features].join(",");
  if (shard.x.dtype !== "float32" || shard.x.shape.join(",") !== wantX)
    throw new DataError(`${where}/${shard.x.path}: expected float32 features of shape (${wantX})`);
  const wantY = m.kind === "classification" ? `int32:${shard.rows}` : `float32:${shard.rows},${m.outputs}`;
  if (`${shard.y.dtype}:${shard.y.shape.join(",")}` !== wantY)
    throw new DataError(`${where}/${shard.y.path}: expected ${wantY.replace(":", " of shape (")})`);
  const xb = await read(shard.x.path);
  checkFile(shard.x, xb, where);
  const x = new Float32Array(xb.buffer.slice(xb.byteOffset, xb.byteOffset + xb.byteLength));
  const yb = await read(shard.y.path);
  checkFile(shard.y, yb, where);
  const ycopy = yb.buffer.slice(yb.byteOffset, yb.byteOffset + yb.byteLength);
  if (m.kind === "classification") {
    const labels = new Int32Array(ycopy);
    for (let i = 0; i < labels.length; i++)
      if (labels[i] < 0 || labels[i] >= m.outputs)
        throw new DataError(
          `${where}/${shard.y.path}: row ${i}: label ${labels[i]} is not a class in [0, ${m.outputs})`,
        );
    return { x, labels, rows: shard.rows };
  }
  return { x, targets: new Float32Array(ycopy), rows: shard.rows };
}

/** One shard of the training split, read and verified alone (what a worker needs). */
export async function decodeTrainShard(
  m: DatasetManifest,
  index: number,
  read: (path: string) => Promise<Uint8Array>,
  where: string,
): Promise<Split> {
  const shard = m.splits.train.shards[index];
  if (!shard)
    throw new DataError(`${where}: the training split has ${m.splits.train.shards.length} shards, no shard ${index}`);
  return decodeShard(m, shard, read, where);
}

/** Reassembles a Dataset, reading each file through `read(path)` and verifying it. */
export async function decodeShards(
  m: DatasetManifest,
  read: (path: string) => Promise<Uint8Array>,
  where: string,
): Promise<Dataset> {
  const split = async (name: "train" | "validation" | "test"): Promise<Split> => {
    const sm = m.splits[name]!;
    const x = new Float32Array(sm.rows * m.features);
    const labels = m.kind === "classification" ? new Int32Array(sm.rows) : undefined;
    const targets = m.kind === "regression" ? new Float32Array(sm.rows * m.outputs) : undefined;
    let row = 0;
    for (const shard of sm.shards) {
      if (row + shard.rows > sm.rows)
        throw new DataError(`${where}: the ${name} shards hold more rows than the manifest's ${sm.rows}`);
      const part = await decodeShard(m, shard, read, where);
      x.set(part.x, row * m.features);
      if (labels) labels.set(part.labels!, row);
      else targets!.set(part.targets!, row * m.outputs);
      row += shard.rows;
    }
    if (row !== sm.rows)
      throw new DataError(`${where}: the ${name} shards hold ${row} rows, the manifest says ${sm.rows}`);
    return { x, labels, targets, rows: sm.rows };
  };
  return {
    kind: m.kind,
    features: m.features,
    outputs: m.outputs,
    names: m.names,
    ...(m.columns ? { columns: m.columns } : {}),
    ...(m.standardization ? { standardization: m.standardization } : {}),
    train: await split("train"),
    ...(m.splits.validation ? { validation: await split("validation") } : {}),
    test: await split("test"),
  };
}
