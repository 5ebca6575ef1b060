// One kernel configuration, one result: the same MNIST job run in process (as enkf run runs it) and
// through the job's state machine with one shard (as enkf run --store runs it) takes the same steps
// bit for bit, on every CPU backend. The workers' kernel runs one ONNX thread and no RNG threads of
// its own; the reducer forms d = Ωs from the draw as that kernel held its members.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runLocalWorkflow } from "../../local/engine.ts";
import { loadMnist } from "../../shared/data/mnist.ts";
import { optimizeAll } from "../../shared/enkf/optimize.ts";
import { decodeNpyFloat64 } from "../../shared/formats/npy.ts";
import { jobKernel, jobProblem } from "../../shared/setup/jobSetup.ts";
import { JobSpec, problemRegularization } from "../../shared/spec/job.ts";
import { localStore } from "../../shared/store/localStore.ts";
import { prepareJob } from "../../shared/workflow/shardJob.ts";
import { mnistJob } from "../deployed/support/jobs.ts";

const mnist = loadMnist();
// an MLP [8] on MNIST, K = 10, batch 300, 12 iterations, on the backend named (with the line search;
// the step schedule and iterate averaging when named)
const spec = (backend: string, optimizer: object = {}) => {
  const job = mnistJob("two-paths", 1, 12, { compute: { backend } });
  return JobSpec.parse({ ...job, optimizer: { ...job.optimizer, ...optimizer } });
};
const cosineEma = {
  stepSchedule: { schedule: "cosine", iterations: 12, minimum: 0.1 },
  averaging: { type: "ema", decay: 0.9 },
};
const momentumStep = {
  momentum: 0.5,
  lineSearch: false,
  stepSchedule: { schedule: "step", every: 4, factor: 0.5 },
  averaging: { type: "ema", decay: 0.8 },
};
const inverseTail = { stepSchedule: { schedule: "inverse-time", tau: 4 }, averaging: { type: "tail", start: 4 } };

describe("in process and through the state machine (1 shard)", () => {
  it.each([
    ["onnx", "", {}],
    ["wasm", "", {}],
    ["reference", "", {}],
    ["onnx", " (a cosine step schedule, the EMA of the iterates)", cosineEma],
    ["reference", " (an inverse-time step schedule, the Polyak tail average)", inverseTail],
    ["wasm", " (Nesterov momentum without the line search, a step schedule, the EMA)", momentumStep],
  ])("%s%s: the same θ and objectives, bit for bit", async (backend, _what, optimizer) => {
    const job = spec(backend, optimizer);
    if (job.optimizer.method !== "modified-enkf") throw new Error("test job");
    const problem = jobProblem(job, mnist);
    const kernel = await jobKernel(job, problem, () => {});
    const local = await optimizeAll({
      problem,
      optimizer: job.optimizer,
      stop: job.stop,
      regularization: problemRegularization(job.problem),
      kernel,
    });
    await kernel?.dispose();
    expect(local.status).toBe("max_iterations");

    const dir = mkdtempSync(join(tmpdir(), "two-paths-"));
    await prepareJob(localStore(dir), job, mnist, 1);
    expect((await runLocalWorkflow({ job: { store: dir } })).status).toBe("max_iterations");
    const result = JSON.parse(readFileSync(join(dir, "result.json"), "utf8"));
    expect(result.history.map((h: { objective: number }) => h.objective)).toEqual(
      local.history.map((h) => h.objective),
    );
    expect(Array.from(decodeNpyFloat64(readFileSync(join(dir, "theta.npy"))))).toEqual(Array.from(local.theta));
  });
});
