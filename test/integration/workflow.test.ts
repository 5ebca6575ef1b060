// The job's state machine (the definition the CDK app deploys) run locally with
// aws-local-stepfunctions, its Task states mapped to the handlers, over a local-directory store
// and over a real S3-compatible server: it takes the in-process optimizer's steps.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runLocalWorkflow } from "../../local/engine.ts";
import { optimizeAll } from "../../shared/enkf/optimize.ts";
import { decodeNpyFloat64 } from "../../shared/formats/npy.ts";
import { referenceKernel } from "../../shared/kernels/reference.ts";
import { jobKernel, jobProblem } from "../../shared/setup/jobSetup.ts";
import { JobSpec, problemRegularization } from "../../shared/spec/job.ts";
import { localStore } from "../../shared/store/localStore.ts";
import { openStore } from "../../shared/store/openStore.ts";
import { getJson } from "../../shared/store/blobStore.ts";
import { prepareJob } from "../../shared/workflow/shardJob.ts";
import { startS3Server, type S3Server } from "../support/s3server.ts";
import { randomClassification, relDiff, smallMlpJob } from "../support/synthetic.ts";

const ds = randomClassification(260, 5, 3, 20, 31, 0);
const jobSpec = (iterations: number, extra: object = {}) => ({
  ...smallMlpJob(
    "wf",
    {
      ensembleSize: 8,
      sigma: { schedule: "adaptive", initial: 0.05 },
      gamma: { relative: 1e-3 },
      batchSize: 80,
      stepSize: 4,
    },
    iterations,
    { backend: "reference" },
  ),
  ...extra,
});

/** The same job in process, wired as enkf run wires it (shared/setup/jobSetup.ts). */
async function inProcess(spec: object, dataset = ds) {
  const job = JobSpec.parse(spec);
  if (job.optimizer.method !== "modified-enkf") throw new Error("test job");
  const problem = jobProblem(job, dataset);
  return optimizeAll({
    problem,
    optimizer: job.optimizer,
    stop: job.stop,
    regularization: problemRegularization(job.problem),
    kernel: referenceKernel(problem, job.optimizer.ensembleSize),
  });
}

let server: S3Server;
beforeAll(async () => {
  server = await startS3Server();
  // the handlers open s3:// stores with the SDK's default credential chain, as a Lambda does
  process.env.AWS_ACCESS_KEY_ID = server.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = server.credentials.secretAccessKey;
});
afterAll(async () => {
  await server?.stop();
});

describe("the local state machine", () => {
  it("with 4 shards in a directory store, takes the in-process optimizer's 20 steps (θ to 1e-9)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wf-"));
    const spec = jobSpec(20);
    await prepareJob(localStore(dir), spec, ds, 4);
    const out = await runLocalWorkflow({ job: { store: dir } });
    expect(out.status).toBe("max_iterations");
    const local = await inProcess(spec);
    const theta = decodeNpyFloat64(readFileSync(join(dir, "theta.npy")));
    expect(relDiff(theta, local.theta)).toBeLessThan(1e-9);
    const result = JSON.parse(readFileSync(join(dir, "result.json"), "utf8"));
    expect(result.history.map((h: { accepted: boolean; backtracks: number }) => [h.accepted, h.backtracks])).toEqual(
      local.history.map((h) => [h.accepted, h.backtracks]),
    );
    expect(local.history.some((h) => h.backtracks > 0)).toBe(true);
  });

  it("gives the same θ with the evaluate tasks on 2 worker threads", async () => {
    const spec = jobSpec(6);
    const thetas: Float64Array[] = [];
    for (const workers of [0, 2]) {
      const dir = mkdtempSync(join(tmpdir(), "wf-pool-"));
      await prepareJob(localStore(dir), spec, ds, 4);
      expect((await runLocalWorkflow({ job: { store: dir }, workers })).status).toBe("max_iterations");
      thetas.push(decodeNpyFloat64(readFileSync(join(dir, "theta.npy"))));
    }
    expect(thetas[1]).toEqual(thetas[0]);
  });

  it("runs against S3 (s3rver on 127.0.0.1) with the same result, and 1 and 16 shards agree", async () => {
    const spec = jobSpec(10);
    const thetas: Float64Array[] = [];
    for (const shards of [1, 4, 16]) {
      const location = `s3://${server.bucket}/jobs/shards-${shards}/`;
      const store = openStore(location, { endpoint: server.endpoint });
      await prepareJob(store, spec, ds, shards);
      const out = await runLocalWorkflow({ job: { store: location, endpoint: server.endpoint } });
      expect(out.status).toBe("max_iterations");
      thetas.push(decodeNpyFloat64(await store.get("theta.npy")));
      expect(((await getJson(store, "result.json")) as { iterations: number }).iterations).toBe(10);
    }
    const local = await inProcess(spec);
    for (const t of thetas) expect(relDiff(t, local.theta)).toBeLessThan(1e-9);
    // one shard: one partial, reduced as the in-process run reduces its kernel's statistics
    expect(Array.from(thetas[0])).toEqual(Array.from(local.theta));
  });

  it(
    "with backend auto (the onnx kernel) and 1 shard, takes the in-process onnx run's steps bit for bit (d = Ωs " +
      "from float32 members, formed from the draw here)",
    async () => {
      const spec = jobSpec(10, { compute: { backend: "auto", threads: 1 } });
      const dir = mkdtempSync(join(tmpdir(), "wf-onnx-"));
      await prepareJob(localStore(dir), spec, ds, 1);
      expect((await runLocalWorkflow({ job: { store: dir } })).status).toBe("max_iterations");
      const job = JobSpec.parse(spec);
      const problem = jobProblem(job, ds);
      const kernel = (await jobKernel(job, problem, () => {}))!;
      expect(kernel.name).toBe("onnx");
      const local = await optimizeAll({ problem, optimizer: job.optimizer, stop: job.stop, kernel });
      await kernel.dispose();
      const result = JSON.parse(readFileSync(join(dir, "result.json"), "utf8"));
      // the result names the kernel that ran, not the "auto" the spec asked for
      expect(result.environment).toMatchObject({ backend: "onnx", requestedBackend: "auto" });
      expect(result.history.map((h: { accepted: boolean; backtracks: number }) => [h.accepted, h.backtracks])).toEqual(
        local.history.map((h) => [h.accepted, h.backtracks]),
      );
      // the in-process kernel combines its float32-packed members; the reducer forms the same sums from the draw
      expect(Array.from(decodeNpyFloat64(readFileSync(join(dir, "theta.npy"))))).toEqual(Array.from(local.theta));
    },
  );

  it("keeps every state's payload small with K = 1000 (statistics travel through the store)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wf-big-"));
    const spec = jobSpec(2, {
      optimizer: {
        method: "modified-enkf",
        ensembleSize: 1000,
        sigma: 0.05,
        gamma: 1e-2,
        stepSize: 1,
        lineSearch: false,
        seed: 1,
      },
    });
    const small = randomClassification(60, 2, 2, 10, 5, 0);
    await prepareJob(
      localStore(dir),
      { ...spec, problem: { ...spec.problem, model: { type: "mlp", hidden: [] } } },
      small,
      4,
    );
    let largest = 0,
      states = 0;
    const out = await runLocalWorkflow({
      job: { store: dir },
      onEvent: (e) => {
        if (!e.state) return;
        states++;
        largest = Math.max(
          largest,
          JSON.stringify(e.state.input).length,
          JSON.stringify(e.state.output ?? null).length,
        );
      },
    });
    expect(out.status).toBe("max_iterations");
    expect(states).toBeGreaterThan(10);
    // Step Functions allows 256 KiB per payload; a K×K partial here would be 8 MB
    expect(largest).toBeLessThan(2048);
  });

  it("routes a failure to RecordFailure, which writes failure.json naming the cause", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wf-bad-"));
    await prepareJob(localStore(dir), jobSpec(3), ds, 2);
    // corrupt shard 1's features after the fact
    const file = join(dir, "dataset", "train-00001.x.f32");
    const bytes = readFileSync(file);
    bytes[10] ^= 0xff;
    writeFileSync(file, bytes);
    await expect(runLocalWorkflow({ job: { store: dir } })).rejects.toThrow(/JobFailed|failure/);
    const failure = JSON.parse(readFileSync(join(dir, "failure.json"), "utf8"));
    expect(failure.status).toBe("failed");
    expect(failure.cause).toMatch(/train-00001\.x\.f32/);
  });
});

describe("continue-as-new", () => {
  it(
    "with a rollover every 5 rounds, finishes 23 iterations across 5 executions with the same " + "θ as without",
    async () => {
      const spec = jobSpec(23, {
        optimizer: {
          method: "modified-enkf",
          ensembleSize: 8,
          sigma: 0.05,
          gamma: { relative: 1e-3 },
          batchSize: 80,
          lineSearch: false,
          seed: 3,
        },
      });
      const thetas: Float64Array[] = [];
      for (const rolloverEvery of [5, undefined]) {
        const dir = mkdtempSync(join(tmpdir(), "wf-roll-"));
        await prepareJob(localStore(dir), spec, ds, 2);
        const out = await runLocalWorkflow({ job: { store: dir }, rolloverEvery });
        expect(out.status).toBe("max_iterations");
        // without a line search a round is an iteration, after round 0: rounds 0–23 in runs of 5
        expect(out.executions).toBe(rolloverEvery ? 5 : 1);
        expect(JSON.parse(readFileSync(join(dir, "result.json"), "utf8")).iterations).toBe(23);
        thetas.push(decodeNpyFloat64(readFileSync(join(dir, "theta.npy"))));
      }
      expect(thetas[0]).toEqual(thetas[1]);
    },
  );

  it("derives the rounds per execution from the events a round costs", async () => {
    const { rolloverRounds } = await import("../../shared/workflow/definition.ts");
    expect(rolloverRounds(1)).toBe(Math.floor(24_000 / 18));
    expect(rolloverRounds(40)).toBe(82);
    // the events of N rounds plus the margin stay under the 25,000-event history limit
    for (const s of [1, 4, 40]) expect(rolloverRounds(s) * (7 * s + 11)).toBeLessThanOrEqual(24_000);
  });
});

describe("more than 40 shards", () => {
  it("fan out through the Distributed Map and give the θ of 4 shards", async () => {
    const spec = jobSpec(3);
    const thetas: Float64Array[] = [];
    const maps = new Set<string>();
    for (const shards of [48, 4]) {
      const dir = mkdtempSync(join(tmpdir(), "wf-dmap-"));
      await prepareJob(localStore(dir), spec, ds, shards);
      await runLocalWorkflow({
        job: { store: dir },
        onEvent: (e) => {
          if (e.state?.name.startsWith("Round")) maps.add(`${shards}:${e.state.name}`);
        },
      });
      thetas.push(decodeNpyFloat64(readFileSync(join(dir, "theta.npy"))));
    }
    expect(maps).toEqual(new Set(["4:Round", "48:Round (distributed)"]));
    expect(relDiff(thetas[0], thetas[1])).toBeLessThan(1e-9);
  });
});

describe("an MNIST MLP through the local state machine", () => {
  it(
    "20 iterations with 4 shards give the in-process θ to 1e-9; 1, 4 and 16 shards agree on Φ " +
      "at iteration 10 to 1e-6",
    async () => {
      const { loadMnist } = await import("../../shared/data/mnist.ts");
      const mnist = loadMnist();
      const spec = {
        name: "mnist-wf",
        problem: {
          type: "classification",
          data: { source: "mnist" },
          model: { type: "mlp", hidden: [8], activation: "tanh" },
          seed: 0,
        },
        optimizer: {
          method: "modified-enkf",
          ensembleSize: 8,
          sigma: 0.01,
          gamma: { relative: 1e-3 },
          batchSize: 200,
          seed: 0,
        },
        stop: { maxIterations: 20 },
        compute: { backend: "reference" },
      };
      const job = JobSpec.parse(spec);
      if (job.optimizer.method !== "modified-enkf") throw new Error("test job");
      const local = await inProcess(spec, mnist);
      const phi10: number[] = [];
      for (const shards of [4, 1, 16]) {
        const dir = mkdtempSync(join(tmpdir(), "wf-mnist-"));
        await prepareJob(
          localStore(dir),
          shards === 4 ? spec : { ...spec, stop: { maxIterations: 10 } },
          mnist,
          shards,
        );
        await runLocalWorkflow({ job: { store: dir }, workers: 2 });
        const result = JSON.parse(readFileSync(join(dir, "result.json"), "utf8"));
        phi10.push(result.history[9].objective);
        if (shards === 4) {
          expect(relDiff(decodeNpyFloat64(readFileSync(join(dir, "theta.npy"))), local.theta)).toBeLessThan(1e-9);
          // finalize reports the full-split metrics as the in-process run does
          expect(result.metrics.testAccuracy).toBe(local.metrics.testAccuracy);
          expect(Math.abs(result.metrics.trainLoss - local.metrics.trainLoss) / local.metrics.trainLoss).toBeLessThan(
            1e-9,
          );
        }
      }
      for (const phi of phi10)
        expect(Math.abs(phi - local.history[9].objective) / local.history[9].objective).toBeLessThan(1e-6);
    },
  );
});
