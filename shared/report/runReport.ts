// A finished run's plots and report from its files: result.json (with the history and the
// environment) and spec.json, read through `read`, so a plain output directory, a job store or
// an S3 prefix all serve.

import { resultHistory } from "./resultHistory.ts";
import { runCharts } from "./charts.ts";
import { reportHtml, type ReportInput } from "./html.ts";
import { chartSvg } from "./render.ts";
import { svgPng } from "./png.ts";

export type ReadFile = (name: string) => Promise<Uint8Array>;

/** result.json: the report's summary fields, plus what the plots are drawn from */
type ResultDoc = Pick<
  ReportInput,
  "name" | "status" | "message" | "iterations" | "objective" | "seconds" | "metrics" | "best" | "last"
> & {
  environment: Record<string, unknown> & { timings?: Record<string, number> };
  spec?: { optimizer?: { ensembleSize?: number } };
  history: Record<string, unknown>[];
};

async function readResult(read: ReadFile): Promise<ResultDoc> {
  return JSON.parse(new TextDecoder().decode(await read("result.json"))) as ResultDoc;
}

/** The plots as SVG and PNG files (plots/<name>.svg, plots/<name>.png). */
async function runPlots(
  history: Record<string, unknown>[],
  ensembleSize: number | undefined,
): Promise<{ name: string; title: string; svg: string; png: Uint8Array }[]> {
  const out = [];
  for (const chart of runCharts(resultHistory(history), ensembleSize)) {
    const svg = await chartSvg(chart);
    out.push({ name: chart.name, title: chart.title, svg, png: await svgPng(svg) });
  }
  return out;
}

/** writeRunPlots over a job's store: result.json read from it, the plots written back to it. */
export const writeStorePlots = (store: {
  get(name: string): Promise<Uint8Array>;
  put(name: string, bytes: Uint8Array, type: string): Promise<unknown>;
}): Promise<string[]> =>
  writeRunPlots(
    (name) => store.get(name),
    (name, bytes, type) => store.put(name, bytes, type),
  );

export async function writeRunPlots(
  read: ReadFile,
  write: (name: string, bytes: Uint8Array, type: string) => Promise<unknown>,
): Promise<string[]> {
  const r = await readResult(read);
  const names: string[] = [];
  for (const p of await runPlots(r.history, r.spec?.optimizer?.ensembleSize)) {
    await write(`plots/${p.name}.svg`, new TextEncoder().encode(p.svg), "image/svg+xml");
    await write(`plots/${p.name}.png`, p.png, "image/png");
    names.push(p.name);
  }
  return names;
}

/** The report of the run whose files `read` reads; `origin` says who ran it (the page's title). */
export async function runReportHtml(read: ReadFile, origin?: string): Promise<string> {
  const r = await readResult(read);
  let spec: unknown = r.spec;
  try {
    spec = JSON.parse(new TextDecoder().decode(await read("spec.json")));
  } catch {
    /* result.json's copy of the spec */
  }
  const plots = [];
  for (const chart of runCharts(resultHistory(r.history), r.spec?.optimizer?.ensembleSize))
    plots.push({ name: chart.name, title: chart.title, svg: await chartSvg(chart) });
  const { timings, ...environment } = r.environment;
  return reportHtml({
    name: r.name,
    status: r.status,
    message: r.message,
    iterations: r.iterations,
    objective: r.objective,
    seconds: r.seconds,
    ...(r.best ? { best: r.best } : {}),
    ...(r.last ? { last: r.last } : {}),
    ...(origin ? { origin } : {}),
    metrics: r.metrics ?? {},
    environment,
    ...(timings ? { timings } : {}),
    spec,
    plots,
    generatedAt: new Date().toISOString(),
  });
}
