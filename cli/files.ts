// Atomic file writes for run outputs: write a temporary sibling, then rename over the target.

import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname, join, basename } from "node:path";

export async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  await writeFile(tmp, data);
  await rename(tmp, path);
}
