// `npm run bench`: seconds per modified-EnKF iteration for an MLP 784-64-10 (tanh) on MNIST,
// m = 1000, K ∈ {50, 200}, with the onnx kernel (and the wasm fallback, and with BENCH_GPU=1 the gpu
// kernel, for comparison): median over measured iterations, forward GFLOP/s,
// peak RSS, and where the time goes (RNG, packing, forward, Gram, update). When the PyTorch
// reference of ../shared/reference can run here (its CPU wheel on disk), it runs in the same
// bench run on the same configuration and the ratio ours/torch is printed. Then the job's state
// machine runs locally with 2 shards on 1 and on 2 worker threads (BENCH_WORKFLOW=0 skips it), for
// the strong-scaling efficiency. Writes bench/results.json.

import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { loadMnist } from "../shared/data/mnist.ts";
import { optimize } from "../shared/enkf/optimize.ts";
import { runLocalWorkflow } from "../local/engine.ts";
import { gpuKernel } from "../shared/kernels/gpu.ts";
import { localStore } from "../shared/store/localStore.ts";
import { prepareJob } from "../shared/workflow/steps.ts";
import { onnxKernel } from "../shared/kernels/onnx.ts";
import { networkProblem } from "../shared/problems/network.ts";
import { ModifiedEnkfOptimizer, StopSpec } from "../shared/spec/job.ts";

const root = join(import.meta.dirname, "..");
const reference = join(root, "..", "shared", "reference");
const ITERS = Number(process.env.BENCH_ITERS ?? 15);
const THREADS = Number(process.env.BENCH_THREADS ?? Math.min(2, availableParallelism()));
const median = (a: number[]) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };

type Engine = "native" | "wasm" | "gpu";
interface Ours { K: number; engine: string; secondsPerIteration: number; minSecondsPerIteration: number; forwardGflops: number; breakdown: Record<string, number>; peakRssMb: number; testAccuracyAfter: number }

async function ours(K: number, engine: Engine = "native", iters = ITERS): Promise<Ours> {
  const ds = loadMnist();
  const model = { type: "mlp" as const, inputs: 784, hidden: [64], outputs: 10, activation: "tanh" as const };
  // the loss in sum form, divided at the reduction, as jobs run it
  const problem = networkProblem({ model, dataset: ds, loss: "cross-entropy", batchSize: 1000, batchSeed: 0, initSeed: 0, lossScale: 1 });
  const rngWorkers = THREADS >= 2 ? THREADS : 0;
  const kernel = engine === "gpu"
    ? await gpuKernel(problem, K, 0, { rngWorkers })
    : await onnxKernel(problem, K, 0, { threads: engine === "wasm" ? 1 : THREADS, engine, rngWorkers });
  // the same algorithm as the PyTorch reference: σ = γ = 1e-2, η = 1, no line search
  const spec = ModifiedEnkfOptimizer.parse({ method: "modified-enkf", ensembleSize: K, sigma: 1e-2, gamma: 1e-2, stepSize: 1, lineSearch: false, batchSize: 1000 });
  // warm-up: the JIT in the worker threads takes about five iterations to settle
  const WARMUP = 5;
  const run = optimize({ problem, optimizer: spec, stop: StopSpec.parse({ maxIterations: WARMUP + iters, tolerance: 0 }), kernel });
  let before = { ...kernel.timings };
  const times: number[] = [];
  let theta = problem.initial();
  for (let k = 0, t = performance.now(); ; k++) {
    const step = await run.next();
    if (step.done) { theta = step.value.theta; break; }
    const now = performance.now();
    if (k === WARMUP - 1) before = { ...kernel.timings };
    else if (k >= WARMUP) times.push((now - t) / 1000);
    t = now;
  }
  const total = times.reduce((a, b) => a + b, 0);
  const phase = (key: keyof typeof before) => (kernel.timings[key] - before[key]) / iters;
  const breakdown = { rng: phase("rng"), pack: phase("pack"), forward: phase("forward"), gram: phase("gram"), update: phase("update") };
  const other = total / iters - Object.values(breakdown).reduce((a, b) => a + b, 0);
  const flops = 2 * 1000 * (784 * 64 + 64 * 10) * (K + 1);
  const acc = (await problem.evaluate!(theta, kernel.predict)).testAccuracy;
  await kernel.dispose();
  return {
    K,
    engine: "backend" in kernel ? `gpu:${String(kernel.backend)}` : engine,
    secondsPerIteration: median(times),
    minSecondsPerIteration: Math.min(...times),
    forwardGflops: flops / breakdown.forward / 1e9,
    breakdown: { ...breakdown, solveAndLineSearch: other },
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    testAccuracyAfter: acc ?? NaN,
  };
}

interface Torch { K: number; secondsPerIteration: number; minSecondsPerIteration: number; peakRssMb: number }

/** Sets up the PyTorch reference (venv from the wheel on disk, data via export_mnist.js); null when it cannot run here. */
function torchSetup(): { python: string; data: string } | null {
  const wheels = existsSync("/opt/wheels") ? readdirSync("/opt/wheels").filter((f) => /^torch-.*\.whl$/.test(f)) : [];
  if (!existsSync(join(reference, "enkf_torch.py")) || wheels.length === 0) return null;
  const venv = join(tmpdir(), "torch-venv");
  const python = join(venv, "bin", "python");
  if (spawnSync(python, ["-c", "import torch, numpy"]).status !== 0) {
    console.log(`setting up the PyTorch reference in ${venv} …`);
    if (spawnSync("python3", ["-m", "venv", "--system-site-packages", venv], { stdio: "inherit" }).status !== 0) return null;
    if (spawnSync(join(venv, "bin", "pip"), ["install", "-q", "--no-index", "--no-deps", join("/opt/wheels", wheels[0])], { stdio: "inherit" }).status !== 0) return null;
    if (spawnSync(python, ["-c", "import torch, numpy"]).status !== 0) return null;
  }
  const data = mkdtempSync(join(tmpdir(), "bench-mnist-"));
  execFileSync(process.execPath, [join(reference, "export_mnist.js"), data], { env: { ...process.env, NODE_PATH: join(root, "node_modules") } });
  return { python, data };
}

function torch(setup: { python: string; data: string }, K: number): Torch | null {
  const r = spawnSync(setup.python, [join(reference, "enkf_torch.py"), "mlp", "--data", setup.data, "--K", String(K), "--sigma", "1e-2", "--gamma", "1e-2", "--eta", "1", "--batch", "1000", "--iters", String(ITERS + 5), "--threads", String(THREADS), "--checkpoints"], { encoding: "utf8" });
  if (r.status !== 0) { console.log(`torch reference failed: ${r.stderr.trim().split("\n").pop()}`); return null; }
  const summary = JSON.parse(r.stdout.trim().split("\n").pop()!);
  return { K, secondsPerIteration: summary.s_per_iter_median, minSecondsPerIteration: summary.s_per_iter_min, peakRssMb: summary.peak_rss_mb };
}

const ks = [50, 200];
const results: { config: object; ours: Ours[]; wasm: Ours[]; gpu?: Ours[]; workflow?: object; torch: Torch[]; ratio: Record<string, number> } = {
  config: { model: "MLP 784-64-10 tanh", batch: 1000, iterations: ITERS, threads: THREADS, backend: "onnx", date: new Date().toISOString() },
  ours: [], wasm: [], torch: [], ratio: {},
};
for (const K of ks) {
  const r = await ours(K);
  results.ours.push(r);
  const b = r.breakdown;
  console.log(`ours  K=${K}: ${r.secondsPerIteration.toFixed(3)} s/iter (min ${r.minSecondsPerIteration.toFixed(3)}), forward ${r.forwardGflops.toFixed(1)} GFLOP/s, peak RSS ${r.peakRssMb.toFixed(0)} MiB`);
  console.log(`      breakdown per iteration: rng ${b.rng.toFixed(3)}  pack ${b.pack.toFixed(3)}  forward ${b.forward.toFixed(3)}  gram ${b.gram.toFixed(3)}  update ${b.update.toFixed(3)}  solve+rest ${b.solveAndLineSearch.toFixed(3)} s`);
}
// the portable fallback: the same graph on onnxruntime-web's WebAssembly backend (1 thread)
for (const K of ks) {
  const r = await ours(K, "wasm");
  results.wasm.push(r);
  const native = results.ours.find((x) => x.K === K)!;
  console.log(`wasm  K=${K}: ${r.secondsPerIteration.toFixed(3)} s/iter, forward ${r.forwardGflops.toFixed(1)} GFLOP/s (${(r.secondsPerIteration / native.secondsPerIteration).toFixed(2)}× the native onnx kernel)`);
}
// the gpu kernel (gpu.js), on request: off a GPU it runs gpu.js's CPU fallback, seconds per iteration
if (process.env.BENCH_GPU === "1") {
  results.gpu = [];
  const iters = Number(process.env.BENCH_GPU_ITERS ?? 3);
  for (const K of ks) {
    const r = await ours(K, "gpu", iters);
    results.gpu.push(r);
    const native = results.ours.find((x) => x.K === K)!;
    console.log(`gpu   K=${K} (${r.engine}): ${r.secondsPerIteration.toFixed(3)} s/iter over ${iters}, forward ${r.forwardGflops.toFixed(1)} GFLOP/s, gram ${r.breakdown.gram.toFixed(3)} s (${(r.secondsPerIteration / native.secondsPerIteration).toFixed(2)}× the native onnx kernel)`);
  }
}
// the job's state machine on this machine: 2 shards, the evaluate tasks on 1 and on 2 worker threads
if (process.env.BENCH_WORKFLOW !== "0") {
  const ds = loadMnist();
  const spec = {
    name: "bench-workflow",
    problem: { type: "classification", data: { source: "mnist" }, model: { type: "mlp", hidden: [64], activation: "tanh" }, seed: 0 },
    optimizer: { method: "modified-enkf", ensembleSize: 50, sigma: 1e-2, gamma: 1e-2, stepSize: 1, lineSearch: false, batchSize: 1000, seed: 0 },
    stop: { maxIterations: 8 },
    compute: { backend: "onnx", shards: 2 },
  };
  const seconds: Record<number, number> = {};
  for (const workers of [1, 2]) {
    const dir = mkdtempSync(join(tmpdir(), "bench-wf-"));
    await prepareJob(localStore(dir), spec, ds, 2);
    let rounds = 0;
    const t = performance.now();
    await runLocalWorkflow({ job: { store: dir }, workers, maxConcurrency: 2, onEvent: (e) => { if (e.type === "StateExited" && e.state?.name === "Reduce") rounds++; } });
    seconds[workers] = (performance.now() - t) / 1000 / rounds;
  }
  const efficiency = seconds[1] / (2 * seconds[2]);
  results.workflow = { shards: 2, K: 50, secondsPerRound: seconds, strongScalingEfficiency: efficiency };
  console.log(`workflow (local state machine, 2 shards, K=50): ${seconds[1].toFixed(3)} s/round on 1 worker, ${seconds[2].toFixed(3)} on 2 → strong-scaling efficiency ${(100 * efficiency).toFixed(0)}%`);
}
const setup = torchSetup();
if (!setup) console.log("PyTorch reference not available here (needs ../shared/reference and the torch wheel in /opt/wheels); no ratio");
else {
  for (const K of ks) {
    const t = torch(setup, K);
    if (!t) continue;
    results.torch.push(t);
    const o = results.ours.find((x) => x.K === K)!;
    results.ratio[`K${K}`] = o.secondsPerIteration / t.secondsPerIteration;
    console.log(`torch K=${K}: ${t.secondsPerIteration.toFixed(3)} s/iter (min ${t.minSecondsPerIteration.toFixed(3)}), peak RSS ${t.peakRssMb.toFixed(0)} MiB  →  ours/torch = ${results.ratio[`K${K}`].toFixed(2)}`);
  }
}
writeFileSync(join(root, "bench", "results.json"), JSON.stringify(results, null, 2) + "\n");
console.log("wrote bench/results.json");
