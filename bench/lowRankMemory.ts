// Peak RSS of a low-rank modified-EnKF run on the MNIST MLP 784-64-10 (batch 1000) at large K,
// in a process of its own (npm run bench spawns it): `tsx bench/lowRankMemory.ts K rank iterations`.
// Prints one JSON line: K, rank, seconds per iteration, peak RSS in MiB.

import { mnistMlpProblem, referenceOptimizer } from "./mnistSetup.ts";
import { optimize } from "../shared/enkf/optimize.ts";
import { onnxKernel } from "../shared/kernels/onnx.ts";
import { StopSpec } from "../shared/spec/job.ts";

const [K, rank, iterations] = process.argv.slice(2, 5).map(Number);
const problem = mnistMlpProblem();
const kernel = await onnxKernel(problem, K, { threads: 2, rngWorkers: 2, rank });
const optimizer = referenceOptimizer(K, rank);
const t = performance.now();
const run = optimize({ problem, optimizer, stop: StopSpec.parse({ maxIterations: iterations, tolerance: 0 }), kernel });
while (!(await run.next()).done);
const secondsPerIteration = (performance.now() - t) / 1000 / iterations;
await kernel.dispose();
console.log(
  JSON.stringify({ K, rank, iterations, secondsPerIteration, peakRssMb: process.resourceUsage().maxRSS / 1024 }),
);
