// An inverse problem's posterior as Vega-Lite specs (pure: samples in, specs out):
//   posterior-marginals  each parameter's marginal (a histogram of the samples, in its units) with
//                        its 95% interval and the calibrated value marked
//   posterior-pairs      the samples of every pair of parameters (the first six), which shows the
//                        correlations and any curvature the bounds' transforms give them
// The samples are the sampler's ensemble, or draws of the Laplace posterior (posteriorSummary.ts).

import type { ParameterPosterior } from "../enkf/posteriorSummary.ts";
import type { Chart } from "./charts.ts";

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";
/** parameters in the pairs plot at most, and samples in it */
const PAIRS = 6,
  PAIR_POINTS = 1000;

export interface PosteriorPlotInput {
  /** "Laplace posterior" or "ensemble Kalman sampler" */
  label: string;
  names: readonly string[];
  parameters: Record<string, ParameterPosterior>;
  /** count × n, sample-major, in the parameters' units */
  samples: Float64Array;
  count: number;
}

export function posteriorCharts(p: PosteriorPlotInput): Chart[] {
  const n = p.names.length;
  const values: Record<string, unknown>[] = [];
  for (let c = 0; c < p.count; c++)
    p.names.forEach((name, j) => values.push({ parameter: name, kind: "sample", value: p.samples[c * n + j] }));
  for (const name of p.names) {
    const q = p.parameters[name];
    values.push({ parameter: name, kind: "interval", value: q.interval[0], end: q.interval[1], estimate: q.estimate });
  }
  const x = { type: "quantitative", title: "value (the parameter's units)", scale: { zero: false } };
  const layer = [
    {
      transform: [{ filter: "datum.kind === 'interval'" }],
      mark: { type: "rect", opacity: 0.15, color: "#4c78a8" },
      encoding: { x: { field: "value", ...x }, x2: { field: "end" } },
    },
    {
      transform: [{ filter: "datum.kind === 'sample'" }],
      mark: { type: "bar", opacity: 0.8 },
      encoding: {
        x: { field: "value", bin: { maxbins: 40 }, ...x },
        y: { aggregate: "count", type: "quantitative", title: "samples" },
      },
    },
    {
      transform: [{ filter: "datum.kind === 'interval'" }],
      mark: { type: "rule", color: "#e45756", strokeWidth: 2 },
      encoding: { x: { field: "estimate", ...x } },
    },
  ];
  const marginals: Chart = {
    name: "posterior-marginals",
    title: `Posterior marginals (${p.label}; the band is the 95% interval, the line the calibrated value)`,
    spec: {
      $schema: SCHEMA,
      data: { values },
      columns: 3,
      concat: p.names.map((name) => ({
        width: 220,
        height: 140,
        title: name,
        transform: [{ filter: { field: "parameter", equal: name } }],
        layer,
      })),
    },
  };
  if (n < 2) return [marginals];
  const shown = p.names.slice(0, PAIRS);
  const rows: Record<string, number>[] = [];
  const step = Math.max(1, Math.floor(p.count / PAIR_POINTS));
  for (let c = 0; c < p.count; c += step)
    rows.push(Object.fromEntries(shown.map((name, j) => [name, p.samples[c * n + j]])));
  const pairs: Chart = {
    name: "posterior-pairs",
    title: `Posterior samples by pairs of parameters (${p.label}${n > PAIRS ? `; the first ${PAIRS}` : ""})`,
    spec: {
      $schema: SCHEMA,
      data: { values: rows },
      repeat: { row: shown, column: shown },
      spec: {
        width: 150,
        height: 150,
        mark: {
          type: "point",
          size: rows.length < 300 ? 40 : 6,
          opacity: rows.length < 300 ? 0.7 : 0.35,
          filled: true,
        },
        encoding: {
          x: { field: { repeat: "column" }, type: "quantitative", scale: { zero: false } },
          y: { field: { repeat: "row" }, type: "quantitative", scale: { zero: false } },
        },
      },
    },
  };
  return [marginals, pairs];
}
