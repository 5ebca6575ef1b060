// The GPU option's path: a compute.backend "gpu" job fans out through the state machine's Batch
// branch (one submitJob task per shard, the event in the container's ENKF_EVENT), and the GPU
// container's command (functions/gpu/main.ts) evaluates a shard as a process. Off a GPU the gpu
// kernel runs gpu.js's CPU fallback, so this checks the plumbing and the numbers, not the speed.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { deployedHandlers, handlers } from "../../functions/handlers.ts";
import { readConfig } from "../../shared/config.ts";
import { runLocalWorkflow } from "../../local/engine.ts";
import { rolloverRounds } from "../../shared/workflow/definition.ts";
import { decodeNpyFloat64 } from "../../shared/formats/npy.ts";
import { localStore } from "../../shared/store/localStore.ts";
import { decodePartial } from "../../shared/distributed/partialCodec.ts";
import { keys } from "../../shared/workflow/jobStore.ts";
import { prepareJob } from "../../shared/workflow/shardJob.ts";
import { randomClassification, relDiff, smallMlpJob } from "../support/synthetic.ts";

const root = join(import.meta.dirname, "..", "..");
const ds = randomClassification(200, 5, 3, 20, 41, 0);
const spec = (backend: string, iterations = 3) =>
  smallMlpJob("gpu-branch", { ensembleSize: 8, sigma: 0.05, gamma: { relative: 1e-3 }, batchSize: 80 }, iterations, {
    backend,
  });

async function prepared(backend: string, shards: number, iterations?: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "gpu-branch-"));
  await prepareJob(localStore(dir), spec(backend, iterations), ds, shards);
  return dir;
}

describe("the state machine's GPU branch", () => {
  it(
    "evaluates a gpu job's shards as Batch tasks and agrees with the same job on the Lambda " + "branch's onnx kernel",
    async () => {
      const rounds = new Set<string>();
      const gpuDir = await prepared("gpu", 3);
      const out = await runLocalWorkflow({
        job: { store: gpuDir },
        onEvent: (e) => {
          if (e.state?.name.startsWith("Evaluate") || e.state?.name.startsWith("Round")) rounds.add(e.state.name);
        },
      });
      expect(out.status).toBe("max_iterations");
      expect(rounds).toEqual(new Set(["Round (gpu)", "Evaluate (gpu)"]));
      const onnxDir = await prepared("onnx", 3);
      rounds.clear();
      await runLocalWorkflow({
        job: { store: onnxDir },
        onEvent: (e) => {
          if (e.state?.name.startsWith("Round")) rounds.add(e.state.name);
        },
      });
      expect(rounds).toEqual(new Set(["Round"]));
      // both kernels run the network in float32 and form the statistics in float64
      const gpu = decodeNpyFloat64(readFileSync(join(gpuDir, "theta.npy")));
      const onnx = decodeNpyFloat64(readFileSync(join(onnxDir, "theta.npy")));
      expect(relDiff(gpu, onnx)).toBeLessThan(1e-4);
      expect(relDiff(gpu, onnx)).toBeGreaterThan(0); // two different kernels did run
    },
  );

  it("a deployment without the GPU option refuses a gpu job at Init with a clear message", async () => {
    const dir = await prepared("gpu", 2);
    // the deployed functions' handlers, built from an environment with ENKF_GPU_OPTION=off
    await expect(
      deployedHandlers(readConfig({ ENKF_GPU_OPTION: "off" })).init({ job: { store: dir } }),
    ).rejects.toThrow(/needs the GPU option.*-c gpu=true/);
    await expect(
      deployedHandlers(readConfig({ ENKF_GPU_OPTION: "on" })).init({ job: { store: dir } }),
    ).resolves.toMatchObject({ branch: "gpu" });
    // a Batch task adds an event per shard, so a gpu execution hands over sooner
    expect(rolloverRounds(4, "gpu")).toBe(Math.floor(24_000 / (8 * 4 + 11)));
    expect(rolloverRounds(4, "gpu")).toBeLessThan(rolloverRounds(4));
  });
});

describe("the GPU container's command", () => {
  const container = (env: Record<string, string>) =>
    spawnSync(process.execPath, ["--import", "tsx", "functions/gpu/main.ts"], {
      cwd: root,
      encoding: "utf8",
      timeout: 60_000,
      env: { PATH: process.env.PATH, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true", ...env },
    });

  it(
    "evaluates the shard in ENKF_EVENT and writes the statistics the in-process handler " + "writes, bit for bit",
    async () => {
      const dirs = [await prepared("gpu", 2), await prepared("gpu", 2)];
      for (const dir of dirs) await handlers.init({ job: { store: dir } });
      const r = container({
        ENKF_EVENT: JSON.stringify({ job: { store: dirs[0] }, round: 0, item: 1, op: "evaluate" }),
      });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout.trim().split("\n").pop()!)).toEqual({
        evaluated: { job: { store: dirs[0] }, round: 0, item: 1 },
      });
      await handlers.evaluate({ job: { store: dirs[1] }, round: 0, item: 1, op: "evaluate" });
      // the same statistics (the timings it also carries are each run's own)
      const [a, b] = dirs.map((d) => decodePartial(new Uint8Array(readFileSync(join(d, keys.partial(0, 1))))));
      expect(a.gram.length).toBe((8 * 9) / 2);
      expect([b.phi, Array.from(b.gram), Array.from(b.rhs)]).toEqual([a.phi, Array.from(a.gram), Array.from(a.rhs)]);
      expect(a.timings?.length).toBe(5);
    },
  );

  it("exits 1 with one clear line, no stack trace, when the event is missing, not JSON or names no job", async () => {
    const missing = mkdtempSync(join(tmpdir(), "gpu-none-"));
    for (const [env, message] of [
      [{}, /ENKF_EVENT is not set/],
      [{ ENKF_EVENT: "{round: 0" }, /ENKF_EVENT is not JSON/],
      [{ ENKF_EVENT: JSON.stringify({ job: { store: missing }, round: 0, item: 0, op: "evaluate" }) }, /spec\.json/],
      [
        { ENKF_EVENT: JSON.stringify({ job: { store: missing }, round: 0, shard: 0 }) },
        /evaluate event is invalid: op: /,
      ],
    ] as const) {
      const r = container(env);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(existsSync(join(missing, keys.partial(0, 0)))).toBe(false);
  });
});
