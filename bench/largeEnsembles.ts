// Large ensembles through the job's state machine, in a process of its own (npm run bench spawns
// it): the MNIST MLP 784-64-10 with rank-1 draws, batches of 1000, on `shards` shards for
// `iterations` iterations on the local engine (2 evaluate threads), and the K×K solve timed alone.
// `tsx bench/largeEnsembles.ts K shards iterations [float64|float32]`. Prints one JSON line: a
// shard partial's bytes, the most bytes of partials and sums a round held, the most bytes the job's
// store held (its dataset aside) while it ran and after, θ's bytes, the Reduce state's median
// seconds, the solve's seconds, the seconds to read and decode one partial, and the peak RSS of the
// process (every task's: the engine runs them all). It uses only what every version of the
// workflow has, so it measures an older commit too: the "before" figures are this file as of
// e0c5d77 (the job spec written out, as bench/mnistSetup.ts's mnistWorkflowJob now gives it) run
// on commit 0379bd2. With `tasks`
// last, a second run of one iteration keeps its round, and one evaluate, one combine (when there
// is a tree) and the reduce task of round 0 run again, each in a process of its own
// (bench/taskMemory.ts), for each task's own peak RSS.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadMnist } from "../shared/data/mnist.ts";
import { solveSymmetric } from "../shared/math/linalg.ts";
import { localStore } from "../shared/store/localStore.ts";
import { prepareJob } from "../shared/workflow/shardJob.ts";
import { runLocalWorkflow } from "../local/engine.ts";
import { mnistWorkflowJob } from "./mnistSetup.ts";

const [K, shards, iterations] = process.argv.slice(2, 5).map(Number);
const precision = ["float32", "float64"].includes(process.argv[5]) ? process.argv[5] : undefined;
const tasks = process.argv.includes("tasks");

/** Bytes of the files under a directory (their checksums aside). */
function bytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) n += bytes(path);
    else if (!e.name.endsWith(".sha256")) n += statSync(path).size;
  }
  return n;
}
const safe = (f: () => number) => {
  try {
    return f();
  } catch {
    return 0;
  }
};

const dir = mkdtempSync(join(tmpdir(), "bench-large-"));
const spec = mnistWorkflowJob(
  "bench-large",
  K,
  1,
  { maxIterations: iterations, tolerance: 0 },
  { backend: "onnx", shards, maxConcurrency: 2, ...(precision ? { partialPrecision: precision } : {}) },
);
await prepareJob(localStore(dir), spec, loadMnist(), shards);
const dataset = bytes(join(dir, "dataset"));
let partialBytes = 0,
  roundBytes = 0,
  peakDisk = 0,
  readSeconds = Infinity;
const reduces: number[] = [];
let entered = 0,
  round = 0;
const codec = await import("../shared/distributed/partialCodec.ts").catch(
  () => import("../shared/distributed/shardPartial.ts" as string),
);
const t0 = performance.now();
await runLocalWorkflow({
  job: { store: dir },
  workers: 2,
  maxConcurrency: 2,
  onEvent: (e) => {
    const name = e.state?.name;
    if (e.type === "StateEntered" && name === "Reduce") {
      entered = performance.now();
      const r = join(dir, "rounds", String(round).padStart(6, "0"));
      roundBytes = Math.max(roundBytes, safe(() => bytes(join(r, "partials"))) + safe(() => bytes(join(r, "sums"))));
      const first = join(r, "partials", "000000.bin");
      partialBytes = safe(() => statSync(first).size);
      const t = performance.now();
      codec.decodePartial(new Uint8Array(readFileSync(first)));
      readSeconds = Math.min(readSeconds, (performance.now() - t) / 1000);
      peakDisk = Math.max(peakDisk, bytes(dir) - dataset);
    }
    if (e.type === "StateExited" && name === "Reduce") {
      if (round > 0) reduces.push((performance.now() - entered) / 1000);
      round++;
      peakDisk = Math.max(peakDisk, bytes(dir) - dataset);
    }
  },
});
const wallSeconds = (performance.now() - t0) / 1000;
const finalDisk = bytes(dir) - dataset;
const thetaBytes = statSync(join(dir, "theta.npy")).size;
rmSync(dir, { recursive: true, force: true });
// the solve alone, on a K×K system of the same size (a ridge on a rank-64 Gram)
const a = new Float64Array(K * K);
const q = Float64Array.from({ length: K * 64 }, (_, i) => Math.sin(i * 0.37));
for (let i = 0; i < K; i++)
  for (let j = 0; j <= i; j++) {
    let v = 0;
    for (let p = 0; p < 64; p++) v += q[i * 64 + p] * q[j * 64 + p];
    a[i * K + j] = a[j * K + i] = v + (i === j ? 1e-2 : 0);
  }
const ts = performance.now();
solveSymmetric(a, new Float64Array(K).fill(1), K);
const solveSeconds = (performance.now() - ts) / 1000;
const sorted = [...reduces].sort((x, y) => x - y);
// each task alone: a kept round 0, its tasks run again in processes of their own
const taskRss: Record<string, unknown>[] = [];
if (tasks) {
  const kept = mkdtempSync(join(tmpdir(), "bench-tasks-"));
  await prepareJob(
    localStore(kept),
    { ...spec, stop: { maxIterations: 1, tolerance: 0 }, compute: { ...spec.compute, keepRounds: true } },
    loadMnist(),
    shards,
  );
  await runLocalWorkflow({ job: { store: kept }, workers: 2, maxConcurrency: 2 });
  const script = join(import.meta.dirname, "taskMemory.ts");
  const run = (...args: string[]) => {
    const r = spawnSync(process.execPath, ["--import", "tsx", script, kept, ...args], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${args.join(" ")}: ${r.stderr.trim().split("\n").pop()}`);
    taskRss.push(JSON.parse(r.stdout.trim().split("\n").pop()!));
  };
  run("evaluate", "0", "0");
  if (existsSync(join(kept, "rounds", "000000", "sums"))) run("combine", "0", "0", "1");
  run("reduce", "0");
  rmSync(kept, { recursive: true, force: true });
}
console.log(
  JSON.stringify({
    K,
    shards,
    iterations,
    precision: precision ?? "float64",
    partialBytes,
    roundBytes,
    peakDiskBytes: peakDisk,
    finalDiskBytes: finalDisk,
    thetaBytes,
    reduceSeconds: sorted[Math.floor(sorted.length / 2)],
    readPartialSeconds: readSeconds,
    solveSeconds,
    wallSeconds,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    ...(tasks ? { tasks: taskRss } : {}),
  }),
);
