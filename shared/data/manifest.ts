// The sharded dataset format's manifest (zod, the single source of truth for its type).
// A dataset directory (or S3 prefix) holds manifest.json and, per split and shard, a float32
// features file and an int32 labels or float32 targets file, all little-endian, row-major.

import { z } from "zod";

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, "a sha256 in lowercase hex");
const fileName = z.string().regex(/^[A-Za-z0-9._-]+$/, "a plain file name");

export const ShardFile = z.strictObject({
  path: fileName,
  dtype: z.enum(["float32", "int32"]),
  shape: z.array(z.int().min(0)).min(1).max(2),
  sha256,
});

export const Shard = z.strictObject({
  rows: z.int().min(0),
  x: ShardFile,
  y: ShardFile,
});

export const SplitManifest = z.strictObject({
  rows: z.int().min(0),
  shards: z.array(Shard),
});

export const DatasetManifest = z.strictObject({
  format: z.literal("enkf-dataset"),
  version: z.literal(1),
  kind: z.enum(["classification", "regression"]),
  features: z.int().min(1),
  outputs: z.int().min(1),
  names: z.array(z.string()),
  columns: z.strictObject({ features: z.array(z.string()), label: z.string().optional() }).optional(),
  standardization: z.strictObject({ mean: z.array(z.number()), scale: z.array(z.number()) }).optional(),
  splits: z.strictObject({ train: SplitManifest, validation: SplitManifest.optional(), test: SplitManifest }),
});

export type DatasetManifest = z.infer<typeof DatasetManifest>;
export type ShardFile = z.infer<typeof ShardFile>;
