// The run's plots as Vega-Lite specs, from its history (pure: rows in, specs out):
//   objective       Φ against iteration and against wall time
//   accuracy        train (batch) accuracy, and train and test accuracy where the run evaluated
//                   the full splits (stop.evaluateEvery), against iteration and wall time
//   validation      the loss on the full splits (validation, which chooses the best θ and stops
//                   early, train and test) where the run evaluated them, against iteration and time
//   schedules       σ, γ and the accepted step length η against iteration (EKI and the sampler:
//                   the particles' spread and the step h or Δt)
//   failed-members  the fraction of the ensemble dropped for NaN or ±Inf forwards
// Axes carry their quantity and unit.

import type { HistoryRow } from "../enkf/types.ts";

export interface Chart {
  name: string;
  title: string;
  /** a Vega-Lite (v6) specification with its data inlined */
  spec: Record<string, unknown>;
}

const WIDTH = 360,
  HEIGHT = 200;
const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

function finite(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** Two panels sharing the y field: against iteration and against wall-clock seconds. */
function iterationAndTime(
  values: Record<string, unknown>[],
  y: Record<string, unknown>,
  colorField?: string,
): Record<string, unknown> {
  const layer = (x: Record<string, unknown>) => ({
    width: WIDTH,
    height: HEIGHT,
    mark: { type: "line", point: values.length <= 60, strokeWidth: 2 },
    encoding: {
      x,
      y,
      ...(colorField
        ? { color: { field: colorField, type: "nominal", title: null, legend: { orient: "bottom" } } }
        : {}),
    },
  });
  return {
    data: { values },
    hconcat: [
      layer({ field: "iteration", type: "quantitative", title: "iteration" }),
      layer({ field: "seconds", type: "quantitative", title: "wall time (s)" }),
    ],
  };
}

/** The schedules panel's titles: the modified EnKF's σ, γ and η, or a particle method's spread and step. */
function scheduleTitles(method: string | undefined) {
  if (method === "enkf" || method === "eks")
    return {
      chart: "The particles' spread and step",
      sigma: "particles' spread (rms deviation, θ units)",
      step: method === "eks" ? "time step Δt" : "step h",
    };
  return { chart: "σ, γ and step length", sigma: "σ (perturbation scale, θ units)", step: "accepted step length η" };
}

/** The run's charts; `method` (the optimizer's) names what the schedules panel shows. */
export function runCharts(history: readonly HistoryRow[], ensembleSize?: number, method?: string): Chart[] {
  const titles = scheduleTitles(method);
  const charts: Chart[] = [];
  const base = history.map((h) => ({ iteration: h.iteration, seconds: h.seconds }));
  charts.push({
    name: "objective",
    title: "Objective Φ",
    spec: {
      $schema: SCHEMA,
      ...iterationAndTime(
        history.map((h, i) => ({ ...base[i], objective: finite(h.objective) })).filter((v) => v.objective !== null),
        { field: "objective", type: "quantitative", title: "Φ (loss, dimensionless)", scale: { type: "log" } },
      ),
    },
  });
  const acc: Record<string, unknown>[] = [];
  history.forEach((h, i) => {
    if (finite(h.batchAccuracy) !== null) acc.push({ ...base[i], series: "train (batch)", accuracy: h.batchAccuracy });
    for (const [key, label] of [
      ["trainAccuracy", "train (full split)"],
      ["validationAccuracy", "validation"],
      ["testAccuracy", "test"],
    ] as const) {
      const v = finite(h.evaluation?.[key]);
      if (v !== null) acc.push({ ...base[i], series: label, accuracy: v });
    }
  });
  if (acc.length > 0) {
    charts.push({
      name: "accuracy",
      title: "Accuracy",
      spec: {
        $schema: SCHEMA,
        ...iterationAndTime(
          acc,
          { field: "accuracy", type: "quantitative", title: "accuracy (fraction correct)", scale: { domain: [0, 1] } },
          "series",
        ),
      },
    });
  }
  const losses: Record<string, unknown>[] = [];
  history.forEach((h, i) => {
    for (const [key, label] of [
      ["validationLoss", "validation"],
      ["trainLoss", "train (full split)"],
      ["testLoss", "test"],
    ] as const) {
      const v = finite(h.evaluation?.[key]);
      if (v !== null) losses.push({ ...base[i], series: label, loss: v });
    }
  });
  if (losses.some((l) => l.series === "validation")) {
    charts.push({
      name: "validation",
      title: "Loss on the full splits (validation chooses the best θ)",
      spec: {
        $schema: SCHEMA,
        ...iterationAndTime(
          losses,
          { field: "loss", type: "quantitative", title: "loss (dimensionless)", scale: { type: "log" } },
          "series",
        ),
      },
    });
  }
  const panel = (field: string, title: string, log: boolean) => ({
    width: WIDTH,
    height: 120,
    mark: { type: "line", point: history.length <= 60, strokeWidth: 2 },
    encoding: {
      x: { field: "iteration", type: "quantitative", title: "iteration" },
      y: { field, type: "quantitative", title, ...(log ? { scale: { type: "log" } } : {}) },
    },
    transform: [{ filter: `isValid(datum['${field}']) && datum['${field}'] > 0` }],
  });
  charts.push({
    name: "schedules",
    title: titles.chart,
    spec: {
      $schema: SCHEMA,
      data: {
        values: history.map((h, i) => ({
          ...base[i],
          sigma: finite(h.sigma),
          gamma: finite(h.gamma),
          step: h.accepted ? finite(h.step) : 0,
        })),
      },
      vconcat: [
        panel("sigma", titles.sigma, true),
        ...(method === "enkf" || method === "eks" ? [] : [panel("gamma", "γ (regularization, Φ units)", true)]),
        panel("step", titles.step, false),
      ],
    },
  });
  if (ensembleSize !== undefined && history.some((h) => h.failedMembers !== undefined)) {
    charts.push({
      name: "failed-members",
      title: "Failed ensemble members",
      spec: {
        $schema: SCHEMA,
        width: WIDTH * 2,
        height: 120,
        data: { values: history.map((h, i) => ({ ...base[i], failed: (h.failedMembers ?? 0) / ensembleSize })) },
        mark: { type: "area", line: true, interpolate: "step-after", opacity: 0.4 },
        encoding: {
          x: { field: "iteration", type: "quantitative", title: "iteration" },
          y: {
            field: "failed",
            type: "quantitative",
            title: "failed members (fraction of K)",
            scale: { domain: [0, 1] },
          },
        },
      },
    });
  }
  return charts;
}
