// A finished run named on the command line: a run directory (enkf run's plain files, or a store
// the state machine wrote, with checksums), or a job id of `enkf serve`'s data directory. One
// reader for report, predict and export.

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { openStore } from "../shared/store/openStore.ts";
import { CliError } from "./io.ts";

export interface FinishedRun {
  dir: string;
  read(name: string): Promise<Uint8Array>;
  has(name: string): boolean;
}

export function finishedRun(target: string, dataDir: string): FinishedRun {
  const dir = existsSync(target) ? resolve(target) : join(resolve(dataDir), "jobs", target);
  if (!existsSync(join(dir, "result.json"))) {
    throw new CliError(
      2,
      existsSync(dir)
        ? `${dir} has no result.json: the run has not finished (enkf watch follows it)`
        : `no run directory "${target}" and no job "${target}" in ${dataDir} (--data)`,
    );
  }
  // a run through the state machine keeps checksummed objects; a plain run, plain files
  const store = existsSync(join(dir, "result.json.sha256")) ? openStore(dir) : null;
  return {
    dir,
    read: store ? (name) => store.get(name) : async (name) => new Uint8Array(await readFile(join(dir, name))),
    has: (name) => existsSync(join(dir, name)),
  };
}
