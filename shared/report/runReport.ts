// A finished run's plots and report from its files: result.json (with the history and the
// environment) and spec.json, read through `read`, so a plain output directory, a job store or
// an S3 prefix all serve.

import { resultHistory } from "./resultHistory.ts";
import { runCharts, type Chart } from "./charts.ts";
import { posteriorCharts, type PosteriorPlotInput } from "./posteriorCharts.ts";
import { posteriorSamples } from "../enkf/posteriorSummary.ts";
import type { Posterior } from "../enkf/types.ts";
import { decodeNpy } from "../formats/npy.ts";
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
  spec?: { optimizer?: { ensembleSize?: number; seed?: number; method?: string }; problem?: PosteriorPlotSpec };
  history: Record<string, unknown>[];
  posterior?: Posterior;
};

/** What the posterior's plots read from the spec: the parameters' names and bounds. */
interface PosteriorPlotSpec {
  parameters?: { name: string; bounds?: [number | null, number | null] }[];
}

/** Samples drawn in the report */
const LAPLACE_SAMPLES = 2000;

/** The posterior's samples and marginals: the sampler's ensemble (samples.npy), or draws of the
 *  Laplace posterior from its transformed Gaussian and the spec's bounds. */
async function posteriorInput(r: ResultDoc, read: ReadFile): Promise<PosteriorPlotInput | null> {
  const post = r.posterior;
  const params = r.spec?.problem?.parameters;
  if (!post || "unavailable" in post || !params) return null;
  const names = params.map((p) => p.name);
  if (post.method === "eks") {
    // samples.npy: the particles in the parameters' units, J × n
    const { data } = decodeNpy(await read("samples.npy"), "samples.npy");
    const samples = Float64Array.from(data as Float64Array);
    const label = "ensemble Kalman sampler";
    return { label, names, parameters: post.parameters, samples, count: samples.length / names.length };
  }
  const bounds = params.map((p) => ({ lower: p.bounds?.[0] ?? null, upper: p.bounds?.[1] ?? null }));
  const cov = Float64Array.from(post.transformed.covariance.flat());
  const samples = posteriorSamples(
    Float64Array.from(post.transformed.mean),
    cov,
    bounds,
    r.spec?.optimizer?.seed ?? 0,
    LAPLACE_SAMPLES,
  );
  return { label: "Laplace posterior", names, parameters: post.parameters, samples, count: LAPLACE_SAMPLES };
}

/** The run's charts: its history's, then its posterior's. */
async function reportCharts(r: ResultDoc, read: ReadFile): Promise<Chart[]> {
  const charts = runCharts(resultHistory(r.history), r.spec?.optimizer?.ensembleSize, r.spec?.optimizer?.method);
  const post = await posteriorInput(r, read);
  return post ? [...charts, ...posteriorCharts(post)] : charts;
}

async function readResult(read: ReadFile): Promise<ResultDoc> {
  return JSON.parse(new TextDecoder().decode(await read("result.json"))) as ResultDoc;
}

/** The plots as SVG and PNG files (plots/<name>.svg, plots/<name>.png). */
async function runPlots(
  r: ResultDoc,
  read: ReadFile,
): Promise<{ name: string; title: string; svg: string; png: Uint8Array }[]> {
  const out = [];
  for (const chart of await reportCharts(r, read)) {
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
  for (const p of await runPlots(r, read)) {
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
  for (const chart of await reportCharts(r, read))
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
    ...(r.posterior ? { posterior: r.posterior } : {}),
    plots,
    generatedAt: new Date().toISOString(),
  });
}
