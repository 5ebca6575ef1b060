// `npm run bench`: seconds per modified-EnKF iteration for an MLP 784-64-10 (tanh) on MNIST,
// m = 1000, with the onnx kernel: full Gaussian draws at K ∈ {50, 200} and rank-1 low-rank draws
// at K ∈ {200, 1000} (and the wasm fallback, and with BENCH_GPU=1 the gpu kernel, for comparison):
// median over measured iterations, forward GFLOP/s, peak RSS, and where the time goes (RNG,
// packing, forward, Gram, update, solve). Then, for low-rank draws: the cost of K = 1000 against
// full K = 200, the test accuracy at iteration 100 (BENCH_ACCURACY=0 skips it), the peak RSS at
// K = 4096 in a process of its own (BENCH_MEMORY=0 skips it), large ensembles through the state
// machine at K = 1000, 2048 and 4096 against commit 0379bd2 (BENCH_LARGE=0 skips it: several
// minutes), full Fashion-MNIST's peak RSS at K = 20
// and K = 1000 (BENCH_FASHION=0 skips it), and what the float32 Gram does to
// the solve (against the float64 reference kernel). When the PyTorch reference of
// ../shared/reference can run here (its CPU wheel on disk), it runs in the same bench run on the
// same configurations (enkf_torch.py, enkf_lowrank.py) and the ratios ours/torch are printed. Then
// the job's state machine runs locally with 2 shards on 1 and on 2 worker threads
// (BENCH_WORKFLOW=0 skips it), for the strong-scaling efficiency. Writes bench/results.json.

import { mnistMlpProblem, mnistWorkflowJob, referenceOptimizer } from "./mnistSetup.ts";
import { largeEnsembleSection } from "./largeEnsembleSection.ts";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { loadMnist } from "../shared/data/mnist.ts";
import { optimize } from "../shared/enkf/optimize.ts";
import { runLocalWorkflow } from "../local/engine.ts";
import { gpuKernel } from "../shared/kernels/gpu.ts";
import { localStore } from "../shared/store/localStore.ts";
import { prepareJob } from "../shared/workflow/shardJob.ts";
import { decodePartial } from "../shared/distributed/partialCodec.ts";
import { keys } from "../shared/workflow/jobStore.ts";
import { onnxKernel } from "../shared/kernels/onnx.ts";
import { statisticsPrecision } from "../shared/kernels/onnxGraph.ts";
import { referenceKernel } from "../shared/kernels/reference.ts";
import { solveSymmetric } from "../shared/math/linalg.ts";
import { factoredBlocks } from "../shared/math/perturbation.ts";
import { denseMatrices } from "../shared/models/model.ts";
import { networkProblem } from "../shared/problems/network.ts";
import { StopSpec } from "../shared/spec/job.ts";

const root = join(import.meta.dirname, "..");
const reference = join(root, "..", "shared", "reference");
const ITERS = Number(process.env.BENCH_ITERS ?? 15);
const THREADS = Number(process.env.BENCH_THREADS ?? Math.min(2, availableParallelism()));
const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
};
const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;

type Engine = "native" | "wasm" | "gpu";
interface Ours {
  K: number;
  rank: number;
  engine: string;
  secondsPerIteration: number;
  minSecondsPerIteration: number;
  forwardGflops: number;
  breakdown: Record<string, number>;
  peakRssMb: number;
  testAccuracyAfter: number;
}

async function ours(K: number, engine: Engine = "native", iters = ITERS, rank = 0, seed = 0): Promise<Ours> {
  const problem = mnistMlpProblem(seed);
  const rngWorkers = THREADS >= 2 ? THREADS : 0;
  const kernel =
    engine === "gpu"
      ? await gpuKernel(problem, K, { rngWorkers })
      : await onnxKernel(problem, K, { threads: engine === "wasm" ? 1 : THREADS, engine, rngWorkers, rank });
  // the same algorithm as the PyTorch reference: σ = γ = 1e-2, η = 1, no line search
  const spec = referenceOptimizer(K, rank, seed);
  // warm-up: the JIT in the worker threads takes about five iterations to settle
  const WARMUP = 5;
  const run = optimize({
    problem,
    optimizer: spec,
    stop: StopSpec.parse({ maxIterations: WARMUP + iters, tolerance: 0 }),
    kernel,
  });
  let before = { ...kernel.timings };
  const times: number[] = [];
  let theta = problem.initial();
  for (let k = 0, t = performance.now(); ; k++) {
    const step = await run.next();
    if (step.done) {
      theta = step.value.theta;
      break;
    }
    const now = performance.now();
    if (k === WARMUP - 1) before = { ...kernel.timings };
    else if (k >= WARMUP) times.push((now - t) / 1000);
    t = now;
  }
  const total = times.reduce((a, b) => a + b, 0);
  const phase = (key: keyof typeof before) => (kernel.timings[key] - before[key]) / iters;
  const breakdown = {
    rng: phase("rng"),
    pack: phase("pack"),
    forward: phase("forward"),
    gram: phase("gram"),
    update: phase("update"),
  };
  const other = total / iters - Object.values(breakdown).reduce((a, b) => a + b, 0);
  const flops = 2 * 1000 * (784 * 64 + 64 * 10) * (K + 1);
  const acc = (await problem.evaluate!(theta, kernel.predict)).testAccuracy;
  await kernel.dispose();
  return {
    K,
    rank,
    engine: "backend" in kernel ? `gpu:${String(kernel.backend)}` : engine,
    secondsPerIteration: median(times),
    minSecondsPerIteration: Math.min(...times),
    forwardGflops: flops / breakdown.forward / 1e9,
    breakdown: { ...breakdown, solveAndRest: other },
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    testAccuracyAfter: acc ?? NaN,
  };
}

/** The onnx kernel (float32 forward, float32 Gram summed in float64) against the float64
 *  reference kernel on one draw: relative errors of QᵀWQ, Qᵀg and the step s = −(G + γI)⁻¹b. */
async function solveAgreement(
  K: number,
  rank: number,
): Promise<{
  gram: number;
  rhs: number;
  s: number;
  sSmallGamma: number;
  sFloat32Partial: number;
  sFloat32PartialSmallGamma: number;
}> {
  const model = { type: "mlp" as const, inputs: 784, hidden: [64], outputs: 10, activation: "tanh" as const };
  const problem = networkProblem({
    model,
    dataset: loadMnist(),
    loss: "cross-entropy",
    batchSize: 1000,
    batchSeed: 0,
    initSeed: 0,
  });
  const on = problem.at(0);
  const theta = problem.initial();
  const draw = {
    sigma: 1e-2,
    kind: "gaussian" as const,
    seed: 1,
    iteration: 0,
    ...(rank > 0 ? { lowRank: { rank, blocks: factoredBlocks(denseMatrices(model), rank) } } : {}),
  };
  const ref = await referenceKernel(problem, K).statistics(theta, draw, on);
  const refGram = Float64Array.from(ref.gram),
    refRhs = Float64Array.from(ref.rhs);
  const kernel = await onnxKernel(problem, K, { threads: THREADS, rank });
  const fast = await kernel.statistics(theta, draw, on);
  const rel = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let num = 0,
      den = 0;
    for (let i = 0; i < b.length; i++) {
      num += (a[i] - b[i]) ** 2;
      den += b[i] ** 2;
    }
    return Math.sqrt(num / den);
  };
  const step = (g: Float64Array, b: Float64Array, gamma: number) => {
    const a = Float64Array.from(g);
    for (let i = 0; i < K; i++) a[i * K + i] += gamma;
    return solveSymmetric(
      a,
      Float64Array.from(b, (v) => -v),
      K,
    ).x;
  };
  const out = {
    gram: rel(fast.gram, refGram),
    rhs: rel(fast.rhs, refRhs),
    s: rel(step(fast.gram, fast.rhs, 1e-2), step(refGram, refRhs, 1e-2)),
    sSmallGamma: rel(step(fast.gram, fast.rhs, 1e-6), step(refGram, refRhs, 1e-6)),
    // what a float32 partial (compute.partialPrecision) adds: the same statistics with the Gram
    // rounded to float32 once, as a shard writes it, against the float64 partial
    sFloat32Partial: rel(step(fast.gram.map(Math.fround), fast.rhs, 1e-2), step(fast.gram, fast.rhs, 1e-2)),
    sFloat32PartialSmallGamma: rel(step(fast.gram.map(Math.fround), fast.rhs, 1e-6), step(fast.gram, fast.rhs, 1e-6)),
  };
  await kernel.dispose();
  return out;
}

interface Torch {
  K: number;
  secondsPerIteration: number;
  minSecondsPerIteration: number;
  peakRssMb: number;
}

/**
 * Sets up the PyTorch reference (venv from the wheel on disk, data via export_mnist.js); null when it cannot run here.
 */
function torchSetup(): { python: string; data: string } | null {
  const wheels = existsSync("/opt/wheels") ? readdirSync("/opt/wheels").filter((f) => /^torch-.*\.whl$/.test(f)) : [];
  if (!existsSync(join(reference, "enkf_torch.py")) || wheels.length === 0) return null;
  const venv = join(tmpdir(), "torch-venv");
  const python = join(venv, "bin", "python");
  if (spawnSync(python, ["-c", "import torch, numpy"]).status !== 0) {
    console.log(`setting up the PyTorch reference in ${venv} …`);
    if (spawnSync("python3", ["-m", "venv", "--system-site-packages", venv], { stdio: "inherit" }).status !== 0)
      return null;
    if (
      spawnSync(
        join(venv, "bin", "pip"),
        ["install", "-q", "--no-index", "--no-deps", join("/opt/wheels", wheels[0])],
        { stdio: "inherit" },
      ).status !== 0
    )
      return null;
    if (spawnSync(python, ["-c", "import torch, numpy"]).status !== 0) return null;
  }
  const data = mkdtempSync(join(tmpdir(), "bench-mnist-"));
  execFileSync(process.execPath, [join(reference, "export_mnist.js"), data], {
    env: { ...process.env, NODE_PATH: join(root, "node_modules") },
  });
  return { python, data };
}

/** The low-rank reference (enkf_lowrank.py) at K and rank r, σ = γ = 1e-2, η = 1, no line search. */
function torchLowRank(setup: { python: string; data: string }, K: number, rank: number): Torch | null {
  const iters = ITERS + 5;
  const r = spawnSync(
    setup.python,
    [
      join(reference, "enkf_lowrank.py"),
      "--data",
      setup.data,
      "--K",
      String(K),
      "--rank",
      String(rank),
      "--iters",
      String(iters),
      "--every",
      String(iters),
    ],
    { encoding: "utf8", cwd: reference },
  );
  if (r.status !== 0) {
    console.log(`torch low-rank reference failed: ${r.stderr.trim().split("\n").pop()}`);
    return null;
  }
  const summary = JSON.parse(r.stdout.trim().split("\n").pop()!);
  return {
    K,
    secondsPerIteration: summary.s_per_iter_median,
    minSecondsPerIteration: NaN,
    peakRssMb: summary.peak_rss_mb,
  };
}

function torch(setup: { python: string; data: string }, K: number): Torch | null {
  const r = spawnSync(
    setup.python,
    [
      join(reference, "enkf_torch.py"),
      "mlp",
      "--data",
      setup.data,
      "--K",
      String(K),
      "--sigma",
      "1e-2",
      "--gamma",
      "1e-2",
      "--eta",
      "1",
      "--batch",
      "1000",
      "--iters",
      String(ITERS + 5),
      "--threads",
      String(THREADS),
      "--checkpoints",
    ],
    { encoding: "utf8" },
  );
  if (r.status !== 0) {
    console.log(`torch reference failed: ${r.stderr.trim().split("\n").pop()}`);
    return null;
  }
  const summary = JSON.parse(r.stdout.trim().split("\n").pop()!);
  return {
    K,
    secondsPerIteration: summary.s_per_iter_median,
    minSecondsPerIteration: summary.s_per_iter_min,
    peakRssMb: summary.peak_rss_mb,
  };
}

const ks = [50, 200];
const lowRankKs = [200, 1000];
const results: {
  config: object;
  ours: Ours[];
  lowRank: Ours[];
  wasm: Ours[];
  gpu?: Ours[];
  lowRankChecks: Record<string, unknown>;
  workflow?: object;
  largeEnsembles?: Record<string, unknown>[];
  torch: Torch[];
  torchLowRank: Torch[];
  ratio: Record<string, number>;
} = {
  config: {
    model: "MLP 784-64-10 tanh",
    batch: 1000,
    iterations: ITERS,
    threads: THREADS,
    backend: "onnx",
    date: new Date().toISOString(),
  },
  ours: [],
  lowRank: [],
  wasm: [],
  lowRankChecks: {},
  torch: [],
  torchLowRank: [],
  ratio: {},
};
const fmt = (x: number) => x.toFixed(3);
function report(label: string, r: Ours): void {
  const b = r.breakdown;
  console.log(
    `${label}: ${fmt(r.secondsPerIteration)} s/iter (min ${fmt(r.minSecondsPerIteration)}), ` +
      `forward ${r.forwardGflops.toFixed(1)} GFLOP/s${r.rank > 0 ? " dense-equivalent" : ""}, ` +
      `peak RSS ${r.peakRssMb.toFixed(0)} MiB`,
  );
  console.log(
    `      where the time goes per iteration: rng ${fmt(b.rng)}  pack ${fmt(b.pack)}  ` +
      `forward+in-graph statistics ${fmt(b.forward)}  gram (summing chunks) ${fmt(b.gram)}  ` +
      `update ${fmt(b.update)}  solve+rest ${fmt(b.solveAndRest)} s`,
  );
}
for (const K of ks) {
  const r = await ours(K);
  results.ours.push(r);
  report(`ours  K=${K}`, r);
}
// low-rank draws (optimizer.perturbation { type: "low-rank", rank: 1 }): layer 0 fed as factors
for (const K of lowRankKs) {
  const r = await ours(K, "native", ITERS, 1);
  results.lowRank.push(r);
  report(`ours  K=${K} rank 1`, r);
}
{
  const full200 = results.ours.find((x) => x.K === 200)!,
    low1000 = results.lowRank.find((x) => x.K === 1000)!;
  results.ratio.lowRankK1000OverFullK200 = low1000.secondsPerIteration / full200.secondsPerIteration;
  console.log(
    `low-rank K=1000 rank 1 costs ${results.ratio.lowRankK1000OverFullK200.toFixed(2)}× ` +
      `full-Gaussian K=200 per iteration (target ≤ 2)`,
  );
}
// the portable fallback: the same graphs on onnxruntime-web's WebAssembly backend (1 thread)
for (const [K, rank] of [...ks.map((K) => [K, 0]), [200, 1]]) {
  const r = await ours(K, "wasm", ITERS, rank);
  results.wasm.push(r);
  const native = (rank > 0 ? results.lowRank : results.ours).find((x) => x.K === K)!;
  console.log(
    `wasm  K=${K}${rank > 0 ? ` rank ${rank}` : ""}: ${fmt(r.secondsPerIteration)} s/iter ` +
      `(${(r.secondsPerIteration / native.secondsPerIteration).toFixed(2)}× the native onnx ` +
      `kernel)`,
  );
}
// the gpu kernel (gpu.js), on request: off a GPU it runs gpu.js's CPU fallback, seconds per iteration
if (process.env.BENCH_GPU === "1") {
  results.gpu = [];
  const iters = Number(process.env.BENCH_GPU_ITERS ?? 3);
  for (const K of ks) {
    const r = await ours(K, "gpu", iters);
    results.gpu.push(r);
    const native = results.ours.find((x) => x.K === K)!;
    console.log(
      `gpu   K=${K} (${r.engine}): ${fmt(r.secondsPerIteration)} s/iter over ${iters}, forward ` +
        `${r.forwardGflops.toFixed(1)} GFLOP/s, gram ${fmt(r.breakdown.gram)} s ` +
        `(${(r.secondsPerIteration / native.secondsPerIteration).toFixed(2)}× the native onnx ` +
        `kernel)`,
    );
  }
}
// low-rank accuracy: K = 1000, rank 1, test accuracy at iteration 100, over three seeds (the
// seed moves it by ±0.01 on both sides); the reference's runs are in the torch section below
const ACCURACY_SEEDS = [0, 1, 2];
if (process.env.BENCH_ACCURACY !== "0") {
  const accs: number[] = [];
  for (const seed of ACCURACY_SEEDS) accs.push((await ours(1000, "native", 95, 1, seed)).testAccuracyAfter);
  results.lowRankChecks.testAccuracyAt100 = { seeds: ACCURACY_SEEDS, ours: accs, oursMean: mean(accs) };
  console.log(
    `low-rank K=1000 rank 1: test accuracy at iteration 100, seeds ` +
      `${ACCURACY_SEEDS.join(", ")}: ${accs.map((a) => a.toFixed(4)).join(", ")} (mean ` +
      `${mean(accs).toFixed(4)}; target ≥ 0.935)`,
  );
}
// low-rank memory: K = 4096, rank 1, in a process of its own so that its peak RSS is its own
if (process.env.BENCH_MEMORY !== "0") {
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", join(root, "bench", "lowRankMemory.ts"), "4096", "1", "2"],
    { encoding: "utf8" },
  );
  if (r.status !== 0) console.log(`low-rank memory run failed: ${r.stderr.trim().split("\n").pop()}`);
  else {
    const m = JSON.parse(r.stdout.trim().split("\n").pop()!);
    results.lowRankChecks.memoryK4096 = m;
    console.log(
      `low-rank K=4096 rank 1: peak RSS ${m.peakRssMb.toFixed(0)} MiB (target < 2048), ` +
        `${fmt(m.secondsPerIteration)} s/iter`,
    );
  }
}
// large ensembles through the state machine: partial sizes, bytes per round, the reduction and the
// solve, the store's size, before (commit 0379bd2) and after (BENCH_LARGE=0 skips it)
if (process.env.BENCH_LARGE !== "0") results.largeEnsembles = largeEnsembleSection(root);
// full-scale data: Fashion-MNIST as published (examples/fashion-mnist.json: Debian's
// dataset-fashion-mnist, 70,000 images) at K = 20 and at K = 1000 rank 1, 3 iterations each, in a
// process of its own, against the data's own float32 size (BENCH_FASHION=0 skips it)
const fashion = join(root, "examples", "fashion-mnist.json");
if (process.env.BENCH_FASHION !== "0") {
  const runs: Record<string, unknown>[] = [];
  for (const [k, rank] of [
    [20, 0],
    [1000, 1],
  ]) {
    const r = spawnSync(
      process.execPath,
      ["--import", "tsx", join(root, "bench", "datasetMemory.ts"), fashion, String(k), String(rank), "3"],
      { encoding: "utf8" },
    );
    if (r.status !== 0) {
      console.log(`Fashion-MNIST memory (K=${k}): ${r.stderr.trim().split("\n").pop()}`);
      break;
    }
    const m = JSON.parse(r.stdout.trim().split("\n").pop()!);
    runs.push(m);
    console.log(
      `Fashion-MNIST 70k, K=${k}${rank ? ` rank ${rank}` : ""}: peak RSS ${m.peakRssMb.toFixed(0)} MiB, ` +
        `${(m.peakRssMb / m.dataMb).toFixed(1)}× the data's ${m.dataMb.toFixed(0)} MiB of float32 ` +
        `(targets: ${k === 20 ? "≤ 1 GB" : "≤ 1.5 GB"})`,
    );
  }
  results.lowRankChecks.fashionMemory = runs;
}
// what the float32 Gram does to the solve: the onnx kernel's statistics and step against the
// float64 reference kernel's, on the same draw, at K = 200 (float64 Gram) and K = 400 (float32
// Gram, statisticsPrecision), rank 1
for (const K of [200, 400]) {
  const e = await solveAgreement(K, 1);
  results.lowRankChecks[`solveAgainstFloat64K${K}`] = e;
  console.log(
    `onnx (${statisticsPrecision(K)} Gram) vs float64 reference kernel, K=${K} rank 1: ` +
      `relative error gram ${e.gram.toExponential(1)}, rhs ${e.rhs.toExponential(1)}, step s ` +
      `${e.s.toExponential(1)} (γ = 1e-2), ${e.sSmallGamma.toExponential(1)} (γ = 1e-6); a float32 ` +
      `partial adds ${e.sFloat32Partial.toExponential(1)} (γ = 1e-2), ` +
      `${e.sFloat32PartialSmallGamma.toExponential(1)} (γ = 1e-6)`,
  );
}
// the job's state machine on this machine: 2 shards, the evaluate tasks on 1 and on 2 worker
// threads, full draws at K = 50 and rank-1 draws at K = 200. A round's time is the time between
// successive Reduce exits, over the rounds after the first (which builds the kernels); it splits
// into the Evaluate map state (the shards' tasks: the kernel's compute, read back from the
// partials, and the rest of a task: store reads and writes, the shard's problem), the Reduce task
// (the reduction, the update d = Ωs, the next plan) and the engine's own transitions.
if (process.env.BENCH_WORKFLOW !== "0") {
  const ds = loadMnist();
  const configs = [
    { label: "K=50", k: 50, rank: 0 },
    { label: "K=200 rank 1", k: 200, rank: 1 },
  ];
  const out: Record<string, unknown> = {};
  for (const c of configs) {
    // the partials stay for the timings read back below
    const spec = mnistWorkflowJob(
      "bench-workflow",
      c.k,
      c.rank,
      { maxIterations: 10 },
      { backend: "onnx", shards: 2, keepRounds: true },
    );
    const perWorkers: Record<
      number,
      { round: number; evaluate: number; kernel: number; reduce: number; engine: number }
    > = {};
    for (const workers of [1, 2]) {
      const dir = mkdtempSync(join(tmpdir(), "bench-wf-"));
      const store = localStore(dir);
      await prepareJob(store, spec, ds, 2);
      const reduceExits: number[] = [],
        maps: number[] = [],
        reduces: number[] = [];
      const entered = new Map<string, number>();
      await runLocalWorkflow({
        job: { store: dir },
        workers,
        maxConcurrency: 2,
        onEvent: (e) => {
          const name = e.state?.name ?? "",
            now = performance.now();
          if (e.type === "StateEntered" && (name === "Round" || name === "Reduce")) entered.set(name, now);
          if (e.type === "StateExited" && name === "Round") maps.push(now - entered.get(name)!);
          if (e.type === "StateExited" && name === "Reduce") {
            reduces.push(now - entered.get(name)!);
            reduceExits.push(now);
          }
        },
      });
      const steady = reduceExits.slice(1).map((t, r) => t - reduceExits[r]);
      const seconds = (a: number[]) => mean(a) / 1000;
      // the kernel's compute per task, from the partials' timings (rounds after the first)
      const kernel: number[] = [];
      for (let r = 1; r < reduceExits.length; r++) {
        for (let shard = 0; shard < 2; shard++) {
          const p = decodePartial(await store.get(keys.partial(r, shard)), keys.partial(r, shard));
          if (p.timings) kernel.push(1000 * p.timings.reduce((a, b) => a + b, 0));
        }
      }
      const round = seconds(steady),
        evaluate = seconds(maps.slice(1)),
        reduce = seconds(reduces.slice(1));
      perWorkers[workers] = { round, evaluate, kernel: seconds(kernel), reduce, engine: round - evaluate - reduce };
      const b = perWorkers[workers];
      console.log(
        `workflow ${c.label}, ${workers} worker${workers > 1 ? "s" : ""}: ${fmt(b.round)} s/round ` +
          `= evaluate map ${fmt(b.evaluate)} (kernel compute ${fmt(b.kernel)} per task) + reduce ` +
          `${fmt(b.reduce)} + engine ${fmt(b.engine)}`,
      );
    }
    const efficiency = perWorkers[1].round / (2 * perWorkers[2].round);
    out[c.label] = { shards: 2, perRound: perWorkers, strongScalingEfficiency: efficiency };
    console.log(
      `workflow ${c.label} (local state machine, 2 shards): strong-scaling efficiency ` +
        `${(100 * efficiency).toFixed(0)}% (target ≥ 80%)`,
    );
  }
  results.workflow = out;
}
const setup = torchSetup();
if (!setup)
  console.log(
    "PyTorch reference not available here (needs ../shared/reference and the torch wheel in /opt/wheels); no ratio",
  );
else {
  for (const K of ks) {
    const t = torch(setup, K);
    if (!t) continue;
    results.torch.push(t);
    const o = results.ours.find((x) => x.K === K)!;
    results.ratio[`K${K}`] = o.secondsPerIteration / t.secondsPerIteration;
    console.log(
      `torch K=${K}: ${t.secondsPerIteration.toFixed(3)} s/iter (min ` +
        `${t.minSecondsPerIteration.toFixed(3)}), peak RSS ${t.peakRssMb.toFixed(0)} MiB  →  ` +
        `ours/torch = ${results.ratio[`K${K}`].toFixed(2)}`,
    );
  }
  for (const K of lowRankKs) {
    const t = torchLowRank(setup, K, 1);
    if (!t) continue;
    results.torchLowRank.push(t);
    const o = results.lowRank.find((x) => x.K === K)!;
    results.ratio[`lowRankK${K}`] = o.secondsPerIteration / t.secondsPerIteration;
    console.log(
      `torch enkf_lowrank.py K=${K} rank 1: ${t.secondsPerIteration.toFixed(3)} s/iter, peak RSS ` +
        `${t.peakRssMb.toFixed(0)} MiB  →  ours/torch = ` +
        `${results.ratio[`lowRankK${K}`].toFixed(2)} (target ≤ 1.0)`,
    );
  }
}
// the reference's accuracy at the same point, on the same seeds (its own init and batches)
if (setup && process.env.BENCH_ACCURACY !== "0") {
  const accs: number[] = [];
  for (const seed of ACCURACY_SEEDS) {
    const r = spawnSync(
      setup.python,
      [
        join(reference, "enkf_lowrank.py"),
        "--data",
        setup.data,
        "--K",
        "1000",
        "--rank",
        "1",
        "--iters",
        "100",
        "--every",
        "100",
        "--seed",
        String(seed),
      ],
      { encoding: "utf8", cwd: reference },
    );
    if (r.status !== 0) {
      console.log(`torch low-rank reference failed: ${r.stderr.trim().split("\n").pop()}`);
      break;
    }
    accs.push(JSON.parse(r.stdout.trim().split("\n")[0]).test_acc);
  }
  if (accs.length === ACCURACY_SEEDS.length) {
    const at100 = results.lowRankChecks.testAccuracyAt100 as { torch?: number[]; torchMean?: number };
    at100.torch = accs;
    at100.torchMean = mean(accs);
    console.log(
      `torch enkf_lowrank.py K=1000 rank 1: test accuracy at iteration 100, seeds ` +
        `${ACCURACY_SEEDS.join(", ")}: ${accs.map((a) => a.toFixed(4)).join(", ")} (mean ` +
        `${mean(accs).toFixed(4)})`,
    );
  }
}
writeFileSync(join(root, "bench", "results.json"), JSON.stringify(results, null, 2) + "\n");
console.log("wrote bench/results.json");
