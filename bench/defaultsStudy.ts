// `npx tsx bench/defaultsStudy.ts`: the study behind the network problems' defaults of issue 14
// (a validation split, evaluation every 10 iterations, early stopping, the best θ) and behind their
// σ and γ. Five small datasets made here from the seeded RNG, each job written as a newcomer would
// (the model, K and the iteration budget; nothing else), run in process:
//   - "old": the defaults before (no validation split, no evaluation, the last θ);
//   - "new": today's defaults; and the new defaults with other σ and γ, to choose those by the
//     validation split (never the test split): the mean validation accuracy over the
//     classification sets, and the validation loss of the regression.
// Prints one table and writes bench/defaults-study.json. DEFAULTS_STUDY_QUICK=1 runs fewer settings.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadDataset } from "../shared/data/load.ts";
import { optimizeAll } from "../shared/enkf/optimize.ts";
import { jobKernel, jobProblem } from "../shared/setup/jobSetup.ts";
import { JobSpec } from "../shared/spec/job.ts";
import { halfMoons } from "../scripts/halfMoons.ts";
import { noisyBlobsCsv, syntheticCsv, tabularCsv } from "./syntheticData.ts";

const root = join(import.meta.dirname, "..");
const quick = process.env.DEFAULTS_STUDY_QUICK === "1";
const dir = mkdtempSync(join(tmpdir(), "enkf-defaults-"));

writeFileSync(join(dir, "moons.csv"), halfMoons(600, 0.15, 7));
const tabular = tabularCsv(dir);
// three interleaved spirals in 2-D, from the row index (the arm, and the radius along it)
const spirals = join(dir, "spirals.csv");
{
  const lines = ["f1,f2,y"];
  for (let i = 0; i < 600; i++) {
    const c = i % 3,
      t = (Math.floor(i / 3) / 200) * 3 + 0.3;
    const a = t * 1.6 + (2 * Math.PI * c) / 3;
    const jitter = ((i * 7919) % 1000) / 1000 - 0.5;
    lines.push(`${(t * Math.cos(a) + 0.25 * jitter).toFixed(5)},${(t * Math.sin(a) - 0.25 * jitter).toFixed(5)},${c}`);
  }
  writeFileSync(spirals, lines.join("\n") + "\n");
}
// four Gaussian blobs in 5-D with 15% of the labels flipped (label noise invites overfitting)
const blobs = noisyBlobsCsv(dir);
// a smooth regression target of 3 inputs
const regression = syntheticCsv(dir, "regression", 500, 3, (x) =>
  (Math.sin(2 * x[0]) + 0.5 * x[1] * x[1] - x[2] + 0.1 * Math.cos(17 * x[0] * x[2])).toFixed(5),
);

interface Case {
  name: string;
  problem: Record<string, unknown>;
  k: number;
  iterations: number;
}
const csv = (path: string, label: string) => ({ source: "csv", path, label });
const cases: Case[] = [
  {
    name: "half-moons 2-64-2",
    problem: { type: "classification", data: csv(join(dir, "moons.csv"), "moon"), model: { type: "mlp" } },
    k: 50,
    iterations: 300,
  },
  {
    name: "tabular 30-16-2",
    problem: { type: "classification", data: csv(tabular, "y"), model: { type: "mlp", hidden: [16] } },
    k: 50,
    iterations: 200,
  },
  {
    name: "spirals 2-32-32-3",
    problem: { type: "classification", data: csv(spirals, "y"), model: { type: "mlp", hidden: [32, 32] } },
    k: 60,
    iterations: 300,
  },
  {
    name: "noisy blobs 5-32-4",
    problem: { type: "classification", data: csv(blobs, "y"), model: { type: "mlp", hidden: [32] } },
    k: 50,
    iterations: 200,
  },
  {
    name: "regression 3-32-1",
    problem: { type: "regression", data: csv(regression, "y"), model: { type: "mlp", hidden: [32] } },
    k: 50,
    iterations: 300,
  },
];

interface Setting {
  name: string;
  stop?: Record<string, unknown>;
  data?: Record<string, unknown>;
  optimizer?: Record<string, unknown>;
}
const OLD: Setting = {
  name: "old defaults (last θ)",
  stop: { earlyStopping: false, evaluateEvery: undefined },
  data: { validationFraction: 0 },
};
const settings: Setting[] = [
  OLD,
  { name: "new defaults" },
  ...(quick
    ? []
    : [
        { name: "new, γ = 0.01·tr/K", optimizer: { gamma: { relative: 0.01 } } },
        { name: "new, γ = 1·tr/K", optimizer: { gamma: { relative: 1 } } },
        { name: "new, σ = 0.1", optimizer: { sigma: 0.1 } },
        { name: "new, σ = 0.001", optimizer: { sigma: 0.001 } },
      ]),
];

const rows: Record<string, unknown>[] = [];
for (const c of cases) {
  for (const s of settings) {
    const problem = { ...c.problem, data: { ...(c.problem.data as object), ...(s.data ?? {}) } };
    const stop: Record<string, unknown> = { maxIterations: c.iterations, ...(s.stop ?? {}) };
    for (const k of Object.keys(stop)) if (stop[k] === undefined) delete stop[k];
    const raw = { name: "defaults-study", problem, optimizer: { ensembleSize: c.k, ...(s.optimizer ?? {}) }, stop };
    // the old defaults: evaluateEvery absent means "not set" before this issue, so remove the new default
    const job = JobSpec.parse(raw);
    if (s === OLD) delete (job.stop as { evaluateEvery?: number }).evaluateEvery;
    const p = job.problem as { type: "classification" | "regression"; data: Parameters<typeof loadDataset>[0] };
    const dataset = await loadDataset(p.data, p.type, root);
    const prob = jobProblem(job, dataset);
    const kernel = await jobKernel(job, prob, () => {}, { threads: 2 });
    const t0 = performance.now();
    const r = await optimizeAll({ problem: prob, optimizer: job.optimizer, stop: job.stop, kernel });
    await kernel?.dispose();
    const m = r.metrics;
    const row = {
      dataset: c.name,
      setting: s.name,
      status: r.status,
      iterations: r.iterations,
      bestIteration: r.best?.iteration ?? null,
      validationAccuracy: m.validationAccuracy ?? null,
      validationLoss: m.validationLoss ?? null,
      testAccuracy: m.testAccuracy ?? null,
      testLoss: m.testLoss,
      seconds: (performance.now() - t0) / 1000,
    };
    rows.push(row);
    const score =
      row.testAccuracy !== null
        ? `test acc ${row.testAccuracy.toFixed(4)}`
        : `test loss ${row.testLoss.toExponential(3)}`;
    const val =
      row.validationAccuracy !== null
        ? `val acc ${row.validationAccuracy.toFixed(4)}`
        : row.validationLoss !== null
          ? `val loss ${row.validationLoss.toExponential(3)}`
          : "";
    console.log(
      [
        c.name.padEnd(20),
        s.name.padEnd(24),
        r.status.padEnd(15),
        String(r.iterations).padStart(4),
        `best ${String(row.bestIteration ?? "-").padStart(4)}`,
        val.padEnd(18),
        score,
        `${row.seconds.toFixed(1)} s`,
      ].join("  "),
    );
  }
}
// the choice: by the validation split, over the classification sets
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
for (const s of settings.slice(1)) {
  const mine = rows.filter((r) => r.setting === s.name && r.validationAccuracy !== null);
  console.log(
    `${s.name.padEnd(24)} mean validation accuracy ` +
      `${mean(mine.map((r) => r.validationAccuracy as number)).toFixed(4)}, mean test accuracy ` +
      `${mean(mine.map((r) => r.testAccuracy as number)).toFixed(4)}`,
  );
}
writeFileSync(
  join(root, "bench", "defaults-study.json"),
  JSON.stringify({ date: new Date().toISOString(), quick, rows }, null, 2) + "\n",
);
