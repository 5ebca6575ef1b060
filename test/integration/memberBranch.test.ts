// The state machine's member branch (issue 16): an inverse job's rounds fanned out over member
// blocks, run on the definition the CDK app deploys (aws-local-stepfunctions) over a directory
// store. With 1, 4 and 16 blocks it ends at the in-process θ bit for bit; a lambda forward's
// blocks go through the machine's Forward (lambda) state (here a stand-in for Lambda's Invoke that
// runs Lorenz-96 in this process, as the user's function would) and reach the built-in's θ; a
// member the function answers null and an invocation that fails are failed members, not a failed
// job; continue-as-new hands the cursor over without changing a bit.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runLocalWorkflow } from "../../local/engine.ts";
import { blockRange, roundPoints } from "../../shared/distributed/memberBlocks.ts";
import { optimizeAll } from "../../shared/enkf/optimize.ts";
import { decodeNpy, decodeNpyFloat64 } from "../../shared/formats/npy.ts";
import { lorenz96Statistics } from "../../shared/simulators/lorenz96.ts";
import { InverseProblemError } from "../../shared/problems/inverse.ts";
import { fileInputs, loadInverseProblem } from "../../shared/setup/inverseInputs.ts";
import { JobSpec } from "../../shared/spec/job.ts";
import { localStore } from "../../shared/store/localStore.ts";
import { prepareMemberJob } from "../../shared/workflow/memberJob.ts";
import { linearProblem } from "../support/linearGaussian.ts";

const forward = { type: "lorenz96", variables: 40, dt: 0.01, spinup: 200, steps: 600 } as const;
const parameters = [
  { name: "forcing", prior: { mean: 6, std: 2 }, bounds: [0, null] },
  { name: "coupling", prior: { mean: 1.3, std: 0.4 }, bounds: [0, null] },
];
const spec = (extra: { forward?: object; compute?: object; iterations?: number } = {}) =>
  JobSpec.parse({
    name: "members",
    problem: {
      type: "inverse",
      forward: extra.forward ?? forward,
      observations: { values: [2.28, 18.9, 6.25, 0.87], noise: { std: [0.1, 1, 0.5, 0.5] } },
      parameters,
    },
    optimizer: { method: "modified-enkf", ensembleSize: 6, sigma: 0.1, gamma: { relative: 0.01 }, seed: 5 },
    stop: { maxIterations: extra.iterations ?? 6 },
    ...(extra.compute ? { compute: extra.compute } : {}),
  });

/** The job (default: spec()) in process, as enkf run runs it without member blocks. */
async function inProcess(job: JobSpec = spec()) {
  if (job.problem.type !== "inverse") throw new Error("test job");
  const problem = await loadInverseProblem(job.problem, fileInputs("/"));
  return optimizeAll({ problem, optimizer: job.optimizer, stop: job.stop });
}

async function throughMachine(
  job: ReturnType<typeof spec>,
  opts: Partial<Parameters<typeof runLocalWorkflow>[0]> = {},
) {
  const dir = mkdtempSync(join(tmpdir(), "members-"));
  await prepareMemberJob(localStore(dir), job, fileInputs("/"));
  const events: string[] = [];
  // the largest state input or output, in bytes (Step Functions' limit is 256 KiB)
  let payload = 0;
  const out = await runLocalWorkflow({
    job: { store: dir },
    maxConcurrency: 4,
    ...opts,
    onEvent: (e) => {
      if (e.type === "StateEntered" && e.state) events.push(e.state.name);
      if (e.state)
        payload = Math.max(
          payload,
          JSON.stringify(e.state.input ?? null).length,
          JSON.stringify(e.state.output ?? null).length,
        );
    },
  });
  const result = JSON.parse(readFileSync(join(dir, "result.json"), "utf8"));
  return { out, dir, events, payload, result, theta: decodeNpyFloat64(readFileSync(join(dir, "theta.npy"))) };
}

/** The user's Lambda function, run here: { parameters, theta: [[u…]] } → { outputs: [[G…]] }. */
function lorenzFunction(fail: (call: number, member: number) => "null" | "throttled" | "error" | null = () => null) {
  let calls = 0;
  const invoked: string[] = [];
  const invoke = async (arn: string, payload: unknown) => {
    invoked.push(arn);
    const call = calls++;
    const { parameters: names, theta } = payload as { parameters: string[]; theta: number[][] };
    // Lambda's own transient error (the machine retries it), and the function's own error (it does not)
    if (theta.some((_, i) => fail(call, i) === "throttled"))
      throw Object.assign(new Error("Rate exceeded"), { name: "Lambda.TooManyRequestsException" });
    if (theta.some((_, i) => fail(call, i) === "error"))
      throw Object.assign(new Error("the simulation diverged"), { name: "Unhandled" });
    return {
      outputs: theta.map((u, i) => {
        if (fail(call, i) === "null") return null;
        const p = { forcing: u[names.indexOf("forcing")], coupling: u[names.indexOf("coupling")] };
        const g = new Float64Array(4);
        lorenz96Statistics(p, forward, g);
        return Array.from(g);
      }),
    };
  };
  return { invoke, invoked };
}

describe("member blocks", () => {
  it("cut a round's points into contiguous blocks whose sizes differ by at most one, in roundPoints' order", () => {
    for (const [count, blocks] of [
      [7, 1],
      [7, 4],
      [16, 16],
      [3, 16],
      [23, 5],
    ]) {
      const ranges = Array.from({ length: blocks }, (_, b) => blockRange(count, blocks, b));
      expect(ranges[0].start).toBe(0);
      expect(ranges[blocks - 1].end).toBe(count);
      for (let b = 1; b < blocks; b++) expect(ranges[b].start).toBe(ranges[b - 1].end);
      const sizes = ranges.map((r) => r.end - r.start);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
    const point = Float64Array.of(1, 2, 3);
    const draw = { seed: 9, iteration: 2, sigma: 0.5, kind: "gaussian" as const };
    const base = Float64Array.of(0, 0, 0),
      direction = Float64Array.of(1, -1, 2);
    const rp = roundPoints({ point, draw, statistics: true, trial: { base, direction, etas: [1, 0.5] } }, 4, 3);
    expect([rp.count, rp.members, rp.rungs]).toEqual([7, 5, 2]);
    expect(Array.from(rp.points.subarray(0, 3))).toEqual([1, 2, 3]);
    // member j is θ + ω_j: distinct points around θ, ω of about σ
    for (let j = 1; j <= 4; j++)
      expect(Math.hypot(...Array.from(rp.points.subarray(3 * j, 3 * j + 3), (v, i) => v - point[i]))).toBeGreaterThan(
        0,
      );
    expect(Array.from(rp.points.subarray(15, 18))).toEqual([1, -1, 2]);
    expect(Array.from(rp.points.subarray(18, 21))).toEqual([0.5, -0.5, 1]);
  });

  it("with 1, 4 and 16 blocks, the state machine ends at the in-process θ and posterior bit for bit", async () => {
    const local = await inProcess();
    expect(local.history.length).toBe(6);
    // the Laplace posterior's round (K = 6 ≥ n = 2: one draw) is asked after the last iteration
    expect(local.posterior && "draws" in local.posterior && local.posterior.draws).toBe(1);
    for (const blocks of [1, 4, 16]) {
      const run = await throughMachine(spec({ compute: { memberBlocks: blocks } }));
      expect(run.out.status, `${blocks} blocks`).toBe("max_iterations");
      expect(Array.from(run.theta), `${blocks} blocks`).toEqual(Array.from(local.theta));
      expect(run.result.parameters).toEqual(local.parameters);
      expect(run.result.posterior, `${blocks} blocks`).toEqual(local.posterior);
      expect(run.result.history.map((h: { objective: number }) => h.objective)).toEqual(
        local.history.map((h) => h.objective),
      );
      expect(run.result.evaluations).toBe(local.evaluations);
      // the cursor alone travels: a few hundred bytes plus one integer per block
      expect(run.payload).toBeGreaterThan(100);
      expect(run.payload).toBeLessThan(2048);
      // each round's Map ran one Evaluate members task per block
      const rounds = run.events.filter((e) => e === "Round (members)").length;
      expect(run.events.filter((e) => e === "Evaluate members").length).toBe(rounds * blocks);
    }
  });

  it("run EKI too: with 1 and 3 blocks the state machine ends at the in-process EKI θ bit for bit", async () => {
    const eki = (compute?: object) =>
      JobSpec.parse({
        ...spec(compute ? { compute } : {}),
        optimizer: { method: "enkf", ensembleSize: 8, sigma: 0.2, stepSize: 0.5, seed: 4 },
      });
    const local = await inProcess(eki());
    expect(local.history.length).toBe(6);
    for (const blocks of [1, 3]) {
      const run = await throughMachine(eki({ memberBlocks: blocks }));
      expect(run.out.status, `${blocks} blocks`).toBe("max_iterations");
      expect(Array.from(run.theta), `${blocks} blocks`).toEqual(Array.from(local.theta));
      expect(run.result.history.map((h: { objective: number }) => h.objective)).toEqual(
        local.history.map((h) => h.objective),
      );
      expect(run.result.evaluations).toBe(local.evaluations);
      // an iteration is two rounds: the particles, then Φ at their mean (and the start's one)
      expect(run.events.filter((e) => e === "Round (members)").length).toBe(2 * 6 + 1);
    }
  });

  it("run the sampler too: 1 and 4 blocks give the in-process particles, summary and samples.npy", async () => {
    const sampler = (compute?: object) =>
      JobSpec.parse({
        ...spec(compute ? { compute } : {}),
        optimizer: { method: "eks", ensembleSize: 10, seed: 6 },
      });
    const local = await inProcess(sampler());
    expect(local.posterior?.method).toBe("eks");
    for (const blocks of [1, 4]) {
      const run = await throughMachine(sampler({ memberBlocks: blocks }));
      expect(run.out.status, `${blocks} blocks`).toBe("max_iterations");
      expect(Array.from(run.theta), `${blocks} blocks`).toEqual(Array.from(local.theta));
      expect(run.result.posterior, `${blocks} blocks`).toEqual(local.posterior);
      const samples = decodeNpy(readFileSync(join(run.dir, "samples.npy")));
      expect(samples.shape).toEqual([10, 2]);
      expect(Array.from(samples.data as Float64Array)).toEqual(Array.from(local.samples!.data));
      // a step is one round: the particles (no evaluation at their mean)
      expect(run.events.filter((e) => e === "Round (members)").length).toBe(6);
    }
  });

  it("with K < n, the Laplace posterior's draws are rounds: 1 and 4 blocks give the in-process one", async () => {
    // the linear-Gaussian problem, n = 3, K = 2: three draws after the run (laplace.ts drawsFor)
    const linear = (compute?: object) =>
      JobSpec.parse({
        name: "linear",
        problem: linearProblem(),
        optimizer: { ensembleSize: 2, sigma: 0.1, gamma: 1e-12, seed: 3 },
        stop: { maxIterations: 20 },
        ...(compute ? { compute } : {}),
      });
    const local = await inProcess(linear());
    expect(local.posterior && "draws" in local.posterior && local.posterior.draws).toBe(3);
    for (const blocks of [1, 4]) {
      const run = await throughMachine(linear({ memberBlocks: blocks }));
      expect(Array.from(run.theta), `${blocks} blocks`).toEqual(Array.from(local.theta));
      expect(run.result.posterior, `${blocks} blocks`).toEqual(local.posterior);
      expect(run.result.evaluations).toBe(local.evaluations);
    }
  });

  it("continue-as-new every 2 rounds changes no bit", async () => {
    const local = await inProcess();
    const run = await throughMachine(spec({ compute: { memberBlocks: 4 } }), { rolloverEvery: 2 });
    expect(run.out.executions).toBeGreaterThan(2);
    expect(Array.from(run.theta)).toEqual(Array.from(local.theta));
  });

  it("invoke a lambda forward through the machine's Forward (lambda) state and reach the built-in's θ", async () => {
    const local = await inProcess();
    const arn = "arn:aws:lambda:eu-west-1:123456789012:function:lorenz96";
    const fn = lorenzFunction();
    const run = await throughMachine(
      spec({ forward: { type: "lambda", functionArn: arn }, compute: { memberBlocks: 3 } }),
      { invokeForward: fn.invoke },
    );
    expect(run.out.status).toBe("max_iterations");
    expect(Array.from(run.theta)).toEqual(Array.from(local.theta));
    expect(new Set(fn.invoked)).toEqual(new Set([arn]));
    // a block's points and answers travel in the payloads, far below the 256 KiB limit here
    expect(run.payload).toBeLessThan(8192);
    expect(run.events.filter((e) => e === "Forward (lambda)").length).toBe(
      run.events.filter((e) => e === "Round (members, lambda)").length * 3,
    );
    expect(run.result.parameters.forcing).toBeCloseTo(local.parameters!.forcing, 12);
  });

  it("a member answered null and a failing invocation are failed members; the job completes", async () => {
    const arn = "arn:aws:lambda:eu-west-1:123456789012:function:lorenz96";
    // call 4: one null member; call 7: throttled, then retried; call 11: the function fails (its whole block is failed
    // members)
    const fn = lorenzFunction((call, member) =>
      call === 4 && member === 0 ? "null" : call === 7 ? "throttled" : call === 11 ? "error" : null,
    );
    const job = JobSpec.parse({
      ...spec({ forward: { type: "lambda", functionArn: arn }, compute: { memberBlocks: 4 } }),
      optimizer: { ...spec().optimizer, failedMembers: { tolerance: 0.6 } },
    });
    // one block at a time: the function's calls come in the same order every run
    const run = await throughMachine(job, { invokeForward: fn.invoke, maxConcurrency: 1 });
    expect(run.out.status).toBe("max_iterations");
    expect(run.events.filter((e) => e === "Store failed block")).toHaveLength(1);
    const failed = run.result.history.reduce(
      (s: number, h: { failedMembers?: number }) => s + (h.failedMembers ?? 0),
      0,
    );
    expect(failed).toBeGreaterThanOrEqual(1);
    expect(Number.isFinite(run.theta[0]) && Number.isFinite(run.theta[1])).toBe(true);
  });

  it(
    "refuse a lambda block too big for the machine's payloads, naming compute.memberBlocks, " +
      "before writing anything",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "members-"));
      const big = JobSpec.parse({
        name: "big",
        problem: {
          type: "inverse",
          forward: { type: "lambda", functionArn: "arn:aws:lambda:eu-west-1:123456789012:function:f" },
          observations: { values: Array.from({ length: 4000 }, () => 1), noise: { std: 1 } },
          parameters,
        },
        optimizer: { method: "modified-enkf", ensembleSize: 40 },
      });
      const err = (await prepareMemberJob(localStore(dir), big, fileInputs("/")).catch((e: unknown) => e)) as Error;
      expect(err).toBeInstanceOf(InverseProblemError);
      expect(err.message).toMatch(/^compute\.memberBlocks: .*use more member blocks/);
      expect(await localStore(dir).list("")).toEqual([]);
    },
  );
});
