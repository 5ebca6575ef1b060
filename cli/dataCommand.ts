// `enkf data <job.json> [--out DIR] [--shards N] [--force]`: converts the dataset a job names
// (mnist, csv, npy, …) into the sharded binary format, written atomically.

import { basename, resolve } from "node:path";
import { DataError } from "../shared/data/errors.ts";
import { writeShardDirectory } from "../shared/data/shardDirectory.ts";
import { encodeShards } from "../shared/data/shards.ts";
import { CliError, type Io } from "./io.ts";
import { loadJob, loadJobDataset } from "./jobInput.ts";

export interface DataFlags {
  out?: string;
  shards: number;
  force: boolean;
  quiet: boolean;
}

export async function dataCommand(file: string, flags: DataFlags, io: Io): Promise<number> {
  const job = await loadJob(file);
  const dataset = await loadJobDataset(job, file);
  if (!dataset) throw new CliError(2, `job ${file} has no dataset: problem "${job.problem.type}" is built in`);
  const out = resolve(flags.out ?? `${job.name}-data`);
  const encoded = encodeShards(dataset, flags.shards);
  try {
    await writeShardDirectory(out, encoded, flags.force);
  } catch (e) {
    if (e instanceof DataError)
      throw new CliError(2, `${e.message}${flags.force ? "" : " (pass --force to replace it)"}`);
    throw new CliError(1, `cannot write ${out}: ${(e as Error).message}`);
  }
  if (!flags.quiet) {
    const { train, validation, test } = encoded.manifest.splits;
    const bytes = encoded.files.reduce((s, f) => s + f.bytes.byteLength, 0);
    io.stdout.write(
      `wrote ${out}: ${train.rows} train rows in ${train.shards.length} shards, ` +
        `${validation ? `${validation.rows} validation rows, ` : ""}${test.rows} test rows in ` +
        `${test.shards.length}, ` +
        `${dataset.features} features, ${dataset.outputs} ` +
        `${dataset.kind === "classification" ? "classes" : "targets"}, ` +
        `${(bytes / 2 ** 20).toFixed(1)} MiB\n` +
        `use it with "data": { "source": "shards", "path": "${basename(out)}" }\n`,
    );
  }
  return 0;
}
