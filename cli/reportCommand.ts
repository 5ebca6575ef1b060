// `enkf report <runDir | jobId> [--out FILE]`: one self-contained HTML page for a finished run
// (plots, spec, final metrics, timing breakdown, environment); default FILE is report.html in the
// run's directory. A job id names a job of `enkf serve`'s data directory.

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { openStore } from "../shared/store/openStore.ts";
import { writeAtomic } from "./files.ts";
import { CliError, type Io } from "./io.ts";

export async function reportCommand(target: string, flags: { data: string; out?: string; quiet: boolean }, io: Io): Promise<number> {
  const dir = existsSync(target) ? resolve(target) : join(resolve(flags.data), "jobs", target);
  if (!existsSync(join(dir, "result.json"))) {
    throw new CliError(2, existsSync(dir) ? `${dir} has no result.json: the run has not finished (enkf watch follows it)` : `no run directory "${target}" and no job "${target}" in ${flags.data} (--data)`);
  }
  // a run through the state machine keeps checksummed objects; a plain run, plain files
  const store = existsSync(join(dir, "result.json.sha256")) ? openStore(dir) : null;
  const read = store ? (name: string) => store.get(name) : async (name: string) => new Uint8Array(await readFile(join(dir, name)));
  const { runReportHtml } = await import("../shared/report/runReport.ts");
  const html = await runReportHtml(read);
  const out = resolve(flags.out ?? join(dir, "report.html"));
  await writeAtomic(out, html);
  if (!flags.quiet) io.stdout.write(`wrote ${out} (${(html.length / 1024).toFixed(0)} KiB)\n`);
  return 0;
}
