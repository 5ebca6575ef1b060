// The sharded format on a local disk: writing a dataset directory atomically (every file goes into
// a temporary sibling directory, which is renamed into place only when complete, so nothing is
// ever half-written) and reading one back with every shard verified.

import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { DataError } from "./errors.ts";
import { decodeShards, parseManifest, type EncodedDataset } from "./shards.ts";
import type { Dataset } from "./types.ts";

export async function writeShardDirectory(dir: string, encoded: EncodedDataset, overwrite = false): Promise<void> {
  if (existsSync(dir) && !overwrite)
    throw new DataError(`${dir} already exists; choose another output or allow overwriting`);
  const tmp = join(dirname(dir), `.${basename(dir)}.${process.pid}.partial`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    for (const f of encoded.files) await writeFile(join(tmp, f.path), f.bytes);
    await writeFile(join(tmp, "manifest.json"), JSON.stringify(encoded.manifest, null, 2) + "\n");
    if (overwrite) await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

export async function readShardDirectory(dir: string): Promise<Dataset> {
  const read = async (name: string): Promise<Uint8Array> => {
    try {
      return await readFile(join(dir, name));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new DataError(
        `cannot read ${join(dir, name)}: ${code === "ENOENT" ? "no such file" : (e as Error).message}`,
      );
    }
  };
  const manifest = parseManifest(new TextDecoder().decode(await read("manifest.json")), join(dir, "manifest.json"));
  return decodeShards(manifest, read, dir);
}
