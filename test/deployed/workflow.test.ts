// The synthesized state machine's branches, with every task a synthesized bundle behind the
// Invoke endpoint: more than 40 shards through the Distributed Map; a reduction tree (Combine);
// continue-as-new every 2
// rounds; an inverse job whose forward is a Lambda function (the member branch's lambda:invoke
// of a test function bundled like ours); and a schedule's firing through `launch`, promoted to
// its model's champion by `outcome`. Each θ is compared with `enkf run` of the same job.

import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startStage, type Stage } from "./support/stage.ts";
import { FORWARD_ARN, LORENZ, lorenzJob, mnistJob } from "./support/jobs.ts";
import { ended, enkfRun, submit } from "./support/reference.ts";
import { signsCsv } from "../support/api.ts";
import { until } from "../support/wait.ts";

let stage: Stage;
let rolloverEvery: number | undefined;
beforeAll(async () => {
  stage = await startStage({
    root: inject("deployedRoot"),
    inputDefaults: () => (rolloverEvery ? { rolloverEvery } : {}),
  });
});
afterAll(async () => {
  await stage?.close();
});

const theta = async (id: string) =>
  Buffer.from(await (await fetch((await stage.api("GET", `/jobs/${id}/result`)).body.theta.url)).arrayBuffer());
const executionsOf = (id: string) => stage.sfn.executions.filter((x) => x.name === id || x.name.startsWith(`${id}-r`));
const invocations = (role: string) =>
  stage.lambda.host(stage.template.functions.find((f) => f.role === role)!.id)!.invocations;

describe("the synthesized state machine over the synthesized bundles", () => {
  it("runs 42 shards through the Distributed Map, θ equal to enkf run's", async () => {
    const spec = mnistJob("deployed-42", 42, 2);
    const before = invocations("evaluate");
    const id = await submit(stage, spec);
    const view = await ended(stage, id);
    expect(view.status, JSON.stringify(view)).toBe("succeeded");
    // one evaluate invocation per shard and round (2 iterations take at least 2 rounds)
    expect(invocations("evaluate") - before).toBeGreaterThanOrEqual(2 * 42);
    expect((await theta(id)).equals(enkfRun(spec).theta)).toBe(true);
  });

  it("sums 7 shards through the Combine states' two levels (fan-in 2), θ equal to enkf run's", async () => {
    const spec = mnistJob("deployed-tree", 7, 2, { compute: { shards: 7, reduceFanIn: 2 } });
    const before = invocations("evaluate");
    const id = await submit(stage, spec);
    const view = await ended(stage, id);
    expect(view.status, JSON.stringify(view)).toBe("succeeded");
    // per round: 7 shards and 4 + 2 tree nodes, each an evaluate invocation
    expect(invocations("evaluate") - before).toBeGreaterThanOrEqual(2 * 13);
    expect((await theta(id)).equals(enkfRun(spec).theta)).toBe(true);
  });

  it("continues as new every 2 rounds, each execution started by the last one's Rollover, θ unchanged", async () => {
    const spec = mnistJob("deployed-rollover", 2, 5);
    rolloverEvery = 2;
    let id: string;
    try {
      id = await submit(stage, spec);
    } finally {
      rolloverEvery = undefined;
    }
    expect((await ended(stage, id)).status).toBe("succeeded");
    await until("every execution to end", async () =>
      executionsOf(id).every((x) => x.status !== "RUNNING") ? true : undefined,
    );
    const runs = executionsOf(id);
    expect(runs.length).toBeGreaterThanOrEqual(3);
    expect(runs.map((x) => x.status)).toEqual(runs.map(() => "SUCCEEDED"));
    expect(runs.slice(1).every((x) => /-r\d+$/.test(x.name))).toBe(true);
    expect((await theta(id)).equals(enkfRun(spec).theta)).toBe(true);
  });

  it("an inverse job whose forward is a Lambda function: the built-in θ and posterior, bit for bit", async () => {
    const before = stage.lambda.host(FORWARD_ARN)!.invocations;
    const id = await submit(
      stage,
      lorenzJob("deployed-lambda-forward", { type: "lambda", functionArn: FORWARD_ARN }, 2),
    );
    const view = await ended(stage, id);
    expect(view.status, JSON.stringify(view)).toBe("succeeded");
    expect(stage.lambda.host(FORWARD_ARN)!.invocations - before).toBeGreaterThanOrEqual(2 * 5);
    const builtIn = enkfRun(lorenzJob("deployed-built-in", LORENZ, 1));
    expect((await theta(id)).equals(builtIn.theta)).toBe(true);
    // the Laplace posterior's round went through the bundled functions and the Forward (lambda) state too
    expect(view.posterior).toEqual(builtIn.result.posterior);
    expect(builtIn.result.posterior).toMatchObject({ method: "laplace", draws: 1 });
  });

  it("a schedule's firing goes through launch; outcome promotes its job to the model's champion", async () => {
    expect((await stage.api("POST", "/datasets/signs/versions", { csv: signsCsv(200, 1) }, "label=y")).status).toBe(
      201,
    );
    const template = {
      name: "deployed-retrain",
      problem: {
        type: "classification",
        data: { source: "dataset", name: "signs" },
        model: { type: "mlp", hidden: [4] },
        seed: 1,
      },
      optimizer: { ensembleSize: 8, seed: 2 },
      stop: { maxIterations: 4 },
      compute: { shards: 2 },
    };
    const created = await stage.api("POST", "/schedules", {
      json: { name: "nightly", expression: "rate(1 day)", template, promote: { model: "signs-model" } },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    // the api armed an EventBridge schedule that starts the state machine
    const [name] = [...stage.scheduler.schedules.keys()];
    expect(stage.scheduler.schedules.get(name)!.Target.Arn).toBe(stage.template.stateMachineArn);

    const launches = invocations("launch");
    const firing = stage.scheduler.fire(name, new Date("2026-12-06T03:00:00Z"));
    await firing.ended;
    expect([firing.status, firing.error]).toEqual(["SUCCEEDED", undefined]);
    expect(invocations("launch") - launches).toBe(1);
    const job = (await stage.api("GET", "/jobs", undefined, "limit=100")).body.jobs.find(
      (j: { name: string }) => j.name === "deployed-retrain",
    );
    expect(job.status).toBe("succeeded");
    const model = await stage.api("GET", "/models/signs-model");
    expect(model.status, JSON.stringify(model.body)).toBe(200);
    expect(model.body.champion).toMatchObject({ version: 1, job: job.id });
    const published = stage.sfn.events.find((e) => (e.Detail as { id?: string }).id === job.id)!;
    expect(published.Detail).toMatchObject({
      status: "succeeded",
      promotion: { model: "signs-model", promoted: true, version: 1 },
    });

    // the same firing again (Scheduler retries) launches nothing new
    const again = stage.sfn.start("retry", firing.input);
    await again.ended;
    expect(again.status).toBe("SUCCEEDED");
    expect(JSON.parse(again.output!)).toMatchObject({ duplicate: true });
    expect((await stage.api("DELETE", `/schedules/${created.body.id}`)).status).toBe(204);
    expect(stage.scheduler.schedules.size).toBe(0);
  });
});
