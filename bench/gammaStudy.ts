// `npx tsx bench/gammaStudy.ts`: the study behind the modified EnKF's default γ (and σ). Every
// problem runs in process with each candidate γ, every other setting the spec's default, and the
// table shows what a newcomer would see: whether the first step is taken at full length, how many
// steps are rejected, the median accepted step length η, the rounds per iteration the workflow
// would take (each run is asked as the workflow asks, so its asks are the rounds; built-in problems
// do not run through the workflow, the number still says how often the line search leaves the
// speculated rung), and where the run ends. Writes bench/gamma-study.json.
// GAMMA_STUDY_QUICK=1 runs fewer iterations.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadDataset } from "../shared/data/load.ts";
import { processFor } from "../shared/enkf/processes.ts";
import { currentObjective } from "../shared/enkf/process.ts";
import { jobKernel, jobProblem } from "../shared/setup/jobSetup.ts";
import { JobSpec, type ModifiedEnkfSpec } from "../shared/spec/job.ts";
import { halfMoons } from "../scripts/halfMoons.ts";
import { syntheticCsv, tabularCsv } from "./syntheticData.ts";

const root = join(import.meta.dirname, "..");
const quick = process.env.GAMMA_STUDY_QUICK === "1";
const dir = mkdtempSync(join(tmpdir(), "enkf-gamma-"));

writeFileSync(join(dir, "moons.csv"), halfMoons(600, 0.15, 7));
const tabular = tabularCsv(dir);
// a smooth regression target of 3 inputs
const regression = syntheticCsv(dir, "regression", 500, 3, (x) =>
  (Math.sin(2 * x[0]) + 0.5 * x[1] * x[1] - x[2]).toFixed(5),
);

interface Case {
  name: string;
  job: unknown;
  iterations: number;
}
const iters = (n: number) => (quick ? Math.min(n, 60) : n);
const cases: Case[] = [
  {
    name: "half-moons (2-64-2)",
    iterations: iters(300),
    job: {
      problem: {
        type: "classification",
        data: { source: "csv", path: join(dir, "moons.csv"), label: "moon" },
        model: { type: "mlp" },
      },
      optimizer: { method: "modified-enkf", ensembleSize: 50 },
    },
  },
  {
    name: "tabular 30 features (30-16-2)",
    iterations: iters(200),
    job: {
      problem: {
        type: "classification",
        data: { source: "csv", path: tabular, label: "y" },
        model: { type: "mlp", hidden: [16] },
      },
      optimizer: { method: "modified-enkf", ensembleSize: 50 },
    },
  },
  {
    name: "regression 3 inputs (3-32-1)",
    iterations: iters(300),
    job: {
      problem: {
        type: "regression",
        data: { source: "csv", path: regression, label: "y" },
        model: { type: "mlp", hidden: [32] },
      },
      optimizer: { method: "modified-enkf", ensembleSize: 50 },
    },
  },
  {
    name: "mnist 784-32-10, batch 500",
    iterations: iters(100),
    job: {
      problem: { type: "classification", data: { source: "mnist" }, model: { type: "mlp", hidden: [32] } },
      optimizer: { method: "modified-enkf", ensembleSize: 50, batchSize: 500 },
    },
  },
  {
    name: "quadratic n=100",
    iterations: iters(500),
    job: { problem: { type: "quadratic", dimension: 100 }, optimizer: { method: "modified-enkf", ensembleSize: 20 } },
  },
  {
    name: "rosenbrock n=10",
    iterations: iters(300),
    job: { problem: { type: "rosenbrock", dimension: 10 }, optimizer: { method: "modified-enkf", ensembleSize: 20 } },
  },
];
const gammas: unknown[] = [1e-10, { relative: 1e-4 }, { relative: 1e-3 }, { relative: 1e-2 }, { relative: 1e-1 }];
const label = (g: unknown) => (typeof g === "number" ? `γ=${g}` : `γ=${(g as { relative: number }).relative}·tr/K`);

const rows: Record<string, unknown>[] = [];
for (const c of cases) {
  for (const gamma of gammas) {
    const raw = c.job as { problem: unknown; optimizer: Record<string, unknown> };
    const job = JobSpec.parse({
      name: "gamma-study",
      ...raw,
      optimizer: { ...raw.optimizer, gamma },
      stop: { maxIterations: c.iterations },
    });
    const p = job.problem;
    const dataset =
      p.type === "classification" || p.type === "regression" ? await loadDataset(p.data, p.type, root) : undefined;
    const problem = jobProblem(job, dataset);
    const kernel = await jobKernel(job, problem, () => {}, { threads: 2 });
    const t0 = performance.now();
    // asked as the workflow asks (the same steps), so its asks are the workflow's rounds
    const { process, answer } = processFor(
      problem,
      job.optimizer as ModifiedEnkfSpec,
      job.stop,
      (p as { regularization?: number }).regularization ?? 0,
      kernel!,
      true,
    );
    let state = process.init(problem.initial());
    let rounds = 0;
    for (let ask = process.ask(state); ask; ask = process.ask(state), rounds++)
      ({ state } = process.tell(state, await answer(ask), (performance.now() - t0) / 1000));
    const metrics: Record<string, number> = problem.evaluate ? await problem.evaluate(state.theta) : {};
    await kernel?.dispose();
    const h = state.progress.history;
    const accepted = h.filter((x) => x.accepted);
    const steps = accepted.map((x) => x.step).sort((a, b) => a - b);
    const r = { status: state.progress.done!.status, objective: currentObjective(state), metrics };
    const row = {
      problem: c.name,
      gamma: label(gamma),
      status: r.status,
      iterations: h.length,
      firstStepFull: h[0]?.accepted === true && h[0].backtracks === 0,
      rejected: h.length ? (h.length - accepted.length) / h.length : 0,
      medianStep: steps.length ? steps[Math.floor(steps.length / 2)] : 0,
      roundsPerIteration: h.length ? rounds / h.length : 0,
      objective: r.objective,
      ...(r.metrics.testAccuracy !== undefined ? { testAccuracy: r.metrics.testAccuracy } : {}),
      ...(r.metrics.testLoss !== undefined ? { testLoss: r.metrics.testLoss } : {}),
      seconds: (performance.now() - t0) / 1000,
    };
    rows.push(row);
    console.log(
      [
        row.problem.padEnd(30),
        row.gamma.padEnd(16),
        row.status.padEnd(15),
        String(row.iterations).padStart(4),
        row.firstStepFull ? "full " : "short",
        `rej ${(row.rejected * 100).toFixed(0).padStart(3)}%`,
        `η̃ ${row.medianStep.toExponential(1)}`,
        `r/it ${row.roundsPerIteration.toFixed(2)}`,
        `Φ ${row.objective.toExponential(3)}`,
        row.testAccuracy !== undefined
          ? `acc ${(row.testAccuracy as number).toFixed(4)}`
          : row.testLoss !== undefined
            ? `test ${(row.testLoss as number).toExponential(3)}`
            : "",
        `${row.seconds.toFixed(1)} s`,
      ].join("  "),
    );
  }
}
writeFileSync(
  join(root, "bench", "gamma-study.json"),
  JSON.stringify({ date: new Date().toISOString(), quick, rows }, null, 2) + "\n",
);
