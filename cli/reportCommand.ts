// `enkf report <runDir | jobId> [--out FILE]`: one self-contained HTML page for a finished run
// (plots, spec, final metrics, timing breakdown, environment); default FILE is report.html in the
// run's directory. A job id names a job of `enkf serve`'s data directory.

import { basename, join, resolve, sep } from "node:path";
import { writeAtomic } from "./files.ts";
import { finishedRun } from "./runDirectory.ts";
import { type Io } from "./io.ts";

export async function reportCommand(
  target: string,
  flags: { data: string; out?: string; quiet: boolean },
  io: Io,
): Promise<number> {
  const { dir, read } = finishedRun(target, flags.data);
  const { runReportHtml } = await import("../shared/report/runReport.ts");
  // a job of enkf serve's data directory says so in the page's title
  const job = resolve(dir).startsWith(resolve(flags.data, "jobs") + sep) ? `job ${basename(dir)}` : undefined;
  const html = await runReportHtml(read, job);
  const out = resolve(flags.out ?? join(dir, "report.html"));
  await writeAtomic(out, html);
  if (!flags.quiet) io.stdout.write(`wrote ${out} (${(html.length / 1024).toFixed(0)} KiB)\n`);
  return 0;
}
