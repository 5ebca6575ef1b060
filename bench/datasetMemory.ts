// Peak RSS of `enkf run` on a job, in a process of its own (npm run bench spawns it): the job file's
// data loaded as the CLI loads it, `iterations` iterations of the modified EnKF at K, and the
// process's peak RSS. `tsx bench/datasetMemory.ts JOB K RANK ITERATIONS` (RANK 0: full draws).
// Prints one JSON line: K, rank, seconds, peak RSS in MiB, and the dataset's own float32 MiB.

import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import { loadDataset } from "../shared/data/load.ts";
import { optimizeAll } from "../shared/enkf/optimize.ts";
import { jobKernel, jobProblem } from "../shared/setup/jobSetup.ts";
import { JobSpec } from "../shared/spec/job.ts";

const [file, K, rank, iterations] = [process.argv[2], ...process.argv.slice(3, 6).map(Number)];
const raw = JSON.parse(readFileSync(file, "utf8"));
const job = JobSpec.parse({
  ...raw,
  optimizer: {
    ...raw.optimizer,
    ensembleSize: K,
    perturbation: rank > 0 ? { type: "low-rank", rank } : "gaussian",
  },
  stop: { maxIterations: iterations, evaluateEvery: 1000 },
});
if (job.problem.type !== "classification") throw new Error("a classification job");
const t = performance.now();
const dataset = await loadDataset(job.problem.data, "classification", dirname(file));
const rows = dataset.train.rows + (dataset.validation?.rows ?? 0) + dataset.test.rows;
const problem = jobProblem(job, dataset);
const kernel = await jobKernel(job, problem, () => {});
await optimizeAll({ problem, optimizer: job.optimizer, stop: job.stop, kernel });
await kernel?.dispose();
console.log(
  JSON.stringify({
    K,
    rank,
    iterations,
    seconds: (performance.now() - t) / 1000,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    dataMb: (rows * dataset.features * 4) / 2 ** 20,
  }),
);
