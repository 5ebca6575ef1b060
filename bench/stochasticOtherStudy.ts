// `npx tsx bench/stochasticOtherStudy.ts`: the stochastic regime's parts on the other datasets of
// the defaults studies (bench/stochasticStudy.ts has Fashion-MNIST): the MNIST digits with
// examples/mnist-mlp.json (mini-batches of 1000, no line search), half-moons with
// examples/half-moons.json, and two tabular sets of bench/defaultsStudy.ts (full batch, the line
// search on). Each job runs as written and with one part switched on; momentum turns the line search
// off. The best validation accuracy (the run's best θ) chooses, never the test accuracy. One seed
// each. Writes bench/stochastic-study-others.json.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadDataset } from "../shared/data/load.ts";
import { optimizeAll } from "../shared/enkf/optimize.ts";
import { jobKernel, jobProblem } from "../shared/setup/jobSetup.ts";
import { JobSpec } from "../shared/spec/job.ts";
import { noisyBlobsCsv, tabularCsv } from "./syntheticData.ts";

const root = join(import.meta.dirname, "..");
const dir = mkdtempSync(join(tmpdir(), "enkf-stochastic-"));
const example = (name: string) => JSON.parse(readFileSync(join(root, "examples", `${name}.json`), "utf8"));
const blobs = noisyBlobsCsv(dir);
const tabularJob = (name: string, path: string, hidden: number[], iterations: number) => ({
  name,
  problem: { type: "classification", data: { source: "csv", path, label: "y" }, model: { type: "mlp", hidden } },
  optimizer: { ensembleSize: 50 },
  stop: { maxIterations: iterations },
});
const jobs: { name: string; job: Record<string, any>; base: string }[] = [
  { name: "MNIST digits 784-64-10", job: example("mnist-mlp"), base: join(root, "examples") },
  { name: "half-moons 2-64-2", job: example("half-moons"), base: join(root, "examples") },
  { name: "tabular 30-16-2", job: tabularJob("tabular", tabularCsv(dir), [16], 200), base: dir },
  { name: "noisy blobs 5-32-4", job: tabularJob("blobs", blobs, [32], 200), base: dir },
];

const variants = (iterations: number): Record<string, object> => ({
  "as written": {},
  "inverse-time τ=100": { stepSchedule: { schedule: "inverse-time", tau: 100 } },
  [`cosine T=${iterations}`]: { stepSchedule: { schedule: "cosine", iterations } },
  "EMA 0.98": { averaging: { type: "ema", decay: 0.98 } },
  "Nesterov μ=0.5, no line search": { momentum: 0.5, lineSearch: false },
});

const out: Record<string, unknown>[] = [];
for (const { name, job: raw, base } of jobs) {
  const first = JobSpec.parse(raw);
  if (first.problem.type !== "classification") throw new Error("classification jobs");
  const dataset = await loadDataset(first.problem.data, "classification", base);
  for (const [variant, optimizer] of Object.entries(variants(first.stop.maxIterations))) {
    const spec = JobSpec.parse({ ...raw, optimizer: { ...raw.optimizer, ...optimizer } });
    const problem = jobProblem(spec, dataset);
    const kernel = await jobKernel(spec, problem, () => {});
    const t0 = performance.now();
    const r = await optimizeAll({ problem, optimizer: spec.optimizer, stop: spec.stop, kernel });
    await kernel?.dispose();
    const row = {
      dataset: name,
      variant,
      iterations: r.iterations,
      validationAccuracy: r.metrics.validationAccuracy,
      testAccuracy: r.metrics.testAccuracy,
      seconds: (performance.now() - t0) / 1000,
    };
    out.push(row);
    console.log(
      `${name.padEnd(24)} ${variant.padEnd(32)} validation ${row.validationAccuracy.toFixed(4)}, test ` +
        `${row.testAccuracy.toFixed(4)}, ${row.iterations} iterations, ${row.seconds.toFixed(1)} s`,
    );
  }
}
writeFileSync(join(root, "bench", "stochastic-study-others.json"), JSON.stringify(out, null, 2) + "\n");
