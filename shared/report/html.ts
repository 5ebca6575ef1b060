// The run report: one self-contained HTML page (inline CSS and SVG, no network) with the plots,
// the final metrics, the timing breakdown, the environment and the job spec. Pure: values in,
// text out.

import type { Posterior } from "../enkf/types.ts";

export interface ReportInput {
  name: string;
  status: string;
  message: string;
  iterations: number;
  objective: number;
  seconds: number;
  /** the metrics of θ, the run's result (theta.npy) */
  metrics: Record<string, number>;
  /** where the result's θ came from, when the validation split chose it */
  best?: { iteration: number };
  /** the last θ (theta-last.npy) and its metrics, when it is not the result */
  last?: { iteration: number; metrics: Record<string, number> };
  /** who ran it, for the title ("enkf run", "enkf serve job …") */
  origin?: string;
  environment: Record<string, unknown>;
  /** seconds per phase (rng, pack, forward, gram, update, io, other), where the run measured them */
  timings?: Record<string, number>;
  spec: unknown;
  /** an inverse problem's uncertainty around its parameters */
  posterior?: Posterior;
  plots: { name: string; title: string; svg: string }[];
  generatedAt: string;
}

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
const num = (v: number) =>
  !Number.isFinite(v)
    ? String(v)
    : Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0)
      ? v.toExponential(4)
      : String(Number(v.toPrecision(6)));

const PHASES: Record<string, string> = {
  startup: "start-up (ONNX sessions, RNG workers), before the first iteration",
  rng: "RNG (drawing Ω and the members)",
  pack: "packing members",
  forward: "forward passes",
  gram: "Gram (QᵀWQ, Qᵀg)",
  update: "update (d = Ωs)",
  evaluation: "evaluations on the full splits (stop.evaluateEvery)",
  io: "I/O (writing results)",
  other: "the rest: K×K solves, the line search's forwards, bookkeeping",
};

/** The parameters' posterior: a table of marginals, and how it was formed (or why it was not). */
function posteriorSection(p: Posterior): string {
  if ("unavailable" in p) return `<h2>Uncertainty</h2><p class="note">No posterior: ${esc(p.unavailable)}</p>`;
  const how =
    p.method === "laplace"
      ? `The Laplace (Gauss–Newton) posterior at the result, from ${p.draws} draw${p.draws > 1 ? "s" : ""} of ` +
        `${p.ensembleSize} members at σ = ${num(p.sigma)}; intervals exact through the bounds' transforms.`
      : `The ensemble Kalman sampler's ${p.ensembleSize} particles at the end of the run (samples.npy).`;
  const head = "<tr><th>parameter</th><th>estimate</th><th>mean</th><th>std</th><th>95% interval</th></tr>";
  const body = Object.entries(p.parameters)
    .map(
      ([k, q]) =>
        `<tr><th>${esc(k)}</th><td>${num(q.estimate)}</td><td>${num(q.mean)}</td><td>${num(q.std)}</td>` +
        `<td>[${num(q.interval[0])}, ${num(q.interval[1])}]</td></tr>`,
    )
    .join("");
  return `<h2>Uncertainty</h2><p class="note">${esc(how)}</p><table class="posterior">${head}${body}</table>`;
}

export function reportHtml(r: ReportInput): string {
  const rows = (m: Record<string, number>) =>
    Object.entries(m)
      .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(num(v))}</td></tr>`)
      .join("");
  // every number says which θ it describes: the result (best by validation, or the last) and the last iteration
  const resultTheta = r.best
    ? `the best θ by the validation split, from iteration ${r.best.iteration} of ` +
      `${r.iterations}${r.best.iteration === 0 ? " (the warm start)" : ""}`
    : `the last θ, iteration ${r.iterations}`;
  const metrics =
    `<p class="note">theta.npy: ${esc(resultTheta)}; metrics on the full splits.</p><table>${rows(r.metrics)}</table>` +
    `<p class="note">The last iteration (${r.iterations}): Φ on its ` +
    `mini-batch${r.last ? `, and the last θ (theta-last.npy) on the full splits` : ""}.</p>` +
    `<table>${rows({ "objective Φ (batch)": r.objective, ...(r.last?.metrics ?? {}) })}</table>` +
    `<table>${rows({ iterations: r.iterations, "wall time (s)": r.seconds })}</table>`;
  const env = Object.entries(r.environment)
    .filter(([, v]) => typeof v !== "object" || v === null)
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(String(v))}</td></tr>`)
    .join("");
  let timing = `<p class="note">This run did not record the time of its phases.</p>`;
  if (r.timings && Object.keys(r.timings).length > 0) {
    const total = Object.values(r.timings).reduce((a, b) => a + b, 0) || 1;
    const note =
      r.environment.engine === "workflow"
        ? `<p class="note">Summed over every worker and the reducer: CPU-seconds, which may exceed the wall time.</p>`
        : "";
    const row = ([k, v]: [string, number]) =>
      `<tr><th>${esc(PHASES[k] ?? k)}</th><td>${v.toFixed(3)}</td><td>${((100 * v) / total).toFixed(1)}%</td>` +
      `<td><span class="bar" style="width:${((200 * v) / total).toFixed(0)}px"></span></td></tr>`;
    const head = "<tr><th>phase</th><th>seconds</th><th>share</th><th></th></tr>";
    timing = `${note}<table class="timing">${head}${Object.entries(r.timings).map(row).join("")}</table>`;
  }
  // the headline: how the run ended and the numbers a reader looks for first
  const acc = r.metrics.testAccuracy;
  const from = r.best ? ` (θ of iteration ${r.best.iteration})` : "";
  const headline = [
    `${r.iterations} iterations`,
    `${num(r.seconds)} s`,
    ...(acc !== undefined ? [`test accuracy ${num(acc)}${from}`] : []),
    `last batch Φ ${num(r.objective)}`,
  ].join(" · ");
  const plots = r.plots
    .map(
      (p) => `<figure class="plot" id="plot-${esc(p.name)}"><figcaption>${esc(p.title)}</figcaption>${p.svg}</figure>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(r.name)}: ${esc(r.origin ?? "run")} report</title>
<style>
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:24px;color:#222;background:#fff;max-width:1100px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.status{font-size:14px;color:#555} table{border-collapse:collapse;font-size:13px}
th,td{padding:3px 10px;text-align:left;border-bottom:1px solid #eee}
td{font-variant-numeric:tabular-nums} .bar{display:inline-block;height:10px;background:#4c78a8}
figure.plot{margin:12px 0 24px;display:block} figcaption{font-weight:bold;font-size:14px;margin-bottom:4px}
pre{background:#f6f8fa;padding:12px;font-size:12px;overflow:auto} .note{color:#777;font-size:13px}
.grid{display:flex;gap:40px;flex-wrap:wrap} .headline{font-size:17px;margin:6px 0}
</style></head>
<body>
<h1>${esc(r.name)}</h1>
<div class="headline">${esc(headline)}</div>
<div class="status">${esc(r.status)}: ${esc(r.message)} · report generated ${esc(r.generatedAt)}</div>
<div class="grid">
<div><h2>Final metrics</h2>${metrics}</div>
<div><h2>Where the time went</h2>${timing}</div>
<div><h2>Environment</h2><table>${env}</table></div>
</div>
${r.posterior ? posteriorSection(r.posterior) : ""}
<h2>Plots</h2>
${plots}
<h2>Job spec</h2>
<pre>${esc(JSON.stringify(r.spec, null, 2))}</pre>
<script>
// where each plot landed, for tools that check the rendering (enkf's own tests)
document.body.dataset.plots = JSON.stringify([...document.querySelectorAll("figure.plot svg")].map((e) => {
  const b = e.getBoundingClientRect();
  return { id: e.parentElement.id, x: b.left + scrollX, y: b.top + scrollY, w: b.width, h: b.height };
}));
</script>
</body></html>
`;
}
