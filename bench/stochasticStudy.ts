// `npx tsx bench/stochasticStudy.ts`: the study behind the stochastic regime's defaults (step-length
// schedules, iterate averaging, Nesterov momentum) on Fashion-MNIST as published (Debian's
// dataset-fashion-mnist: 60,000 training images, the last 6,000 of them shuffled out as the
// validation split, and the 10,000 test images), with examples/fashion-mnist.json's 784-64-10 tanh
// MLP, K = 1000 rank-1 perturbations, batches of 1000, no line search. Each variant runs in process
// for the same iterations and is evaluated on the full splits every EVERY iterations; the defaults
// are chosen on the validation accuracy, never on test. Writes bench/stochastic-study.json and
// docs/stochastic-study.svg (test accuracy against iterations).
// STUDY_ITERATIONS (default 300), STUDY_VARIANTS (comma-separated names) narrow it; --plot-only redraws
// the plot from bench/stochastic-study.json.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadDataset } from "../shared/data/load.ts";
import { optimizeAll } from "../shared/enkf/optimize.ts";
import { jobKernel, jobProblem } from "../shared/setup/jobSetup.ts";
import { JobSpec } from "../shared/spec/job.ts";
import { chartSvg } from "../shared/report/render.ts";

const root = join(import.meta.dirname, "..");
const iterations = Number(process.env.STUDY_ITERATIONS ?? 300);
const EVERY = 20;
const example = JSON.parse(readFileSync(join(root, "examples", "fashion-mnist.json"), "utf8"));
if (!existsSync(example.problem.data.images)) {
  console.error("Fashion-MNIST is not installed: apt-get install dataset-fashion-mnist");
  process.exit(1);
}

// the example's optimizer without the part the study chose for it (each variant names its own)
const { averaging: _chosen, ...baseOptimizer } = example.optimizer;

const variants: Record<string, object> = {
  constant: {},
  "inverse-time τ=100": { stepSchedule: { schedule: "inverse-time", tau: 100 } },
  [`cosine T=${iterations}`]: { stepSchedule: { schedule: "cosine", iterations, minimum: 0 } },
  "EMA 0.98": { averaging: { type: "ema", decay: 0.98 } },
  "inverse-time τ=100 + EMA 0.98": {
    stepSchedule: { schedule: "inverse-time", tau: 100 },
    averaging: { type: "ema", decay: 0.98 },
  },
  "Nesterov μ=0.5 + inverse-time τ=100": { momentum: 0.5, stepSchedule: { schedule: "inverse-time", tau: 100 } },
};
const only = process.env.STUDY_VARIANTS?.split(",");

const job = (optimizer: object) =>
  JobSpec.parse({
    ...example,
    optimizer: { ...baseOptimizer, ...optimizer },
    stop: { maxIterations: iterations, evaluateEvery: EVERY, earlyStopping: { patience: 1000 } },
  });
interface Row {
  variant: string;
  seconds: number;
  curve: { iteration: number; seconds: number; validationAccuracy: number; testAccuracy: number }[];
  best: { iteration: number; validationAccuracy: number; testAccuracy: number };
  last: { validationAccuracy: number; testAccuracy: number; trainAccuracy: number };
}

const plotOnly = process.argv[2] === "--plot-only";
const rows: Row[] = plotOnly
  ? JSON.parse(readFileSync(join(root, "bench", "stochastic-study.json"), "utf8")).rows
  : await runVariants();

/** Every variant, run in process on the full data. */
async function runVariants(): Promise<Row[]> {
  const base = job({});
  if (base.problem.type !== "classification") throw new Error("the example is a classification job");
  const dataset = await loadDataset(base.problem.data, "classification", root);

  const rows: Row[] = [];
  for (const [variant, optimizer] of Object.entries(variants)) {
    if (only && !only.includes(variant)) continue;
    const spec = job(optimizer);
    const problem = jobProblem(spec, dataset);
    const kernel = await jobKernel(spec, problem, () => {});
    const t0 = performance.now();
    const result = await optimizeAll({ problem, optimizer: spec.optimizer, stop: spec.stop, kernel });
    await kernel?.dispose();
    const curve = result.history
      .filter((h) => h.evaluation)
      .map((h) => ({
        iteration: h.iteration,
        seconds: h.seconds,
        validationAccuracy: h.evaluation!.validationAccuracy,
        testAccuracy: h.evaluation!.testAccuracy,
      }));
    const best = curve.reduce((a, b) => (b.validationAccuracy > a.validationAccuracy ? b : a));
    const lastMetrics = result.last?.metrics ?? result.metrics;
    const row: Row = {
      variant,
      seconds: (performance.now() - t0) / 1000,
      curve,
      best: { iteration: best.iteration, validationAccuracy: best.validationAccuracy, testAccuracy: best.testAccuracy },
      last: {
        validationAccuracy: lastMetrics.validationAccuracy,
        testAccuracy: lastMetrics.testAccuracy,
        trainAccuracy: lastMetrics.trainAccuracy,
      },
    };
    rows.push(row);
    console.log(
      `${variant.padEnd(38)} best by validation: iteration ${row.best.iteration}, validation ` +
        `${row.best.validationAccuracy.toFixed(4)}, test ${row.best.testAccuracy.toFixed(4)}; last: train ` +
        `${row.last.trainAccuracy.toFixed(4)}, test ${row.last.testAccuracy.toFixed(4)}; ${row.seconds.toFixed(0)} s`,
    );
  }
  return rows;
}
if (!plotOnly) {
  const chosen = rows.reduce((a, b) => (b.best.validationAccuracy > a.best.validationAccuracy ? b : a));
  console.log(`chosen on validation: ${chosen.variant}`);
  writeFileSync(
    join(root, "bench", "stochastic-study.json"),
    JSON.stringify({ iterations, evaluateEvery: EVERY, chosen: chosen.variant, rows }, null, 2) + "\n",
  );
}
const spec = {
  $schema: "https://vega.github.io/schema/vega-lite/v6.json",
  title: "Fashion-MNIST, 784-64-10 MLP, K = 1000 rank 1: test accuracy against iterations",
  width: 560,
  height: 320,
  data: {
    values: rows.flatMap((r) =>
      r.curve.map((c) => ({ variant: r.variant, iteration: c.iteration, testAccuracy: c.testAccuracy })),
    ),
  },
  mark: { type: "line", point: true },
  encoding: {
    x: { field: "iteration", type: "quantitative", title: "iteration" },
    y: { field: "testAccuracy", type: "quantitative", title: "test accuracy", scale: { zero: false } },
    color: { field: "variant", type: "nominal", title: null, sort: rows.map((r) => r.variant) },
  },
};
writeFileSync(
  join(root, "docs", "stochastic-study.svg"),
  await chartSvg({ name: "stochastic-study", title: "", spec }),
);
