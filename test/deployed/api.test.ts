// Jobs through the deployed `api` bundle, driven with API Gateway HTTP API (payload 2.0) events
// through the Invoke endpoint, the synthesized state machine running them (its Lambda tasks
// invoking the synthesized bundles), S3 on the test server: a job's whole life from submit to
// predict, with θ equal bit for bit to `enkf run`'s; a job that fails, ending the execution
// Failed with the reason in the API; and a cancel.

import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { startStage, type Stage } from "./support/stage.ts";
import { FAILING_FORWARD_ARN, lorenzJob, mnistJob } from "./support/jobs.ts";
import { ended, enkfRun, submit } from "./support/reference.ts";
import { until } from "../support/wait.ts";

let stage: Stage;
beforeAll(async () => {
  stage = await startStage({ root: inject("deployedRoot") });
});
afterAll(async () => {
  await stage?.close();
});

describe("the api bundle as API Gateway invokes it", () => {
  it("submit → poll → result → model.onnx → predict; θ is enkf run's, bit for bit", async () => {
    const spec = mnistJob("deployed-mnist", 3, 4);
    const id = await submit(stage, spec);
    const view = await ended(stage, id);
    expect(view.status, JSON.stringify(view)).toBe("succeeded");
    expect(view.iteration).toBe(4);

    const result = await stage.api("GET", `/jobs/${id}/result`);
    expect(result.status).toBe(200);
    // on S3 the result points at a presigned URL of θ on the bucket
    expect(result.body.theta.url).toMatch(new RegExp(`^${stage.s3.endpoint}/`));
    const theta = Buffer.from(await (await fetch(result.body.theta.url)).arrayBuffer());
    expect(theta.equals((await stage.api("GET", `/jobs/${id}/theta.npy`)).bytes)).toBe(true);
    const local = enkfRun(spec);
    expect(theta.equals(local.theta), "θ through the deployed bundles equals enkf run's").toBe(true);
    expect(result.body.result.metrics.testAccuracy).toBe(local.result.metrics!.testAccuracy);
    // the functions ran ONNX Runtime from their layer (its x64 build, beside the arm64 one it ships)
    expect(result.body.result.environment.backend).toBe("onnx");

    // the model as ONNX, run by ONNX Runtime here, agrees with the API's predictions
    const onnx = await stage.api("GET", `/jobs/${id}/model.onnx`);
    expect(onnx.status).toBe(200);
    const rows = Array.from({ length: 5 }, (_, r) =>
      Object.fromEntries(Array.from({ length: 784 }, (_, i) => [`x${i}`, ((r * 131 + i * 17) % 255) / 255])),
    );
    const predicted = await stage.api("POST", `/jobs/${id}/predict`, { json: { rows } });
    expect(predicted.status, JSON.stringify(predicted.body).slice(0, 400)).toBe(200);
    const session = await InferenceSession.create(onnx.bytes);
    const x = new Float32Array(rows.flatMap((row) => Object.values(row) as number[]));
    const out = await session.run({ x: new Tensor("float32", x, [rows.length, 784]) });
    const labels = Array.from(out.label.data as BigInt64Array, (v) => String(v));
    expect(predicted.body.predictions.map((p: { label: string }) => p.label)).toEqual(labels);
  });

  it("a job that fails: RecordFailure → Outcome → the execution ends Failed, and the API says why", async () => {
    const id = await submit(
      stage,
      lorenzJob("deployed-broken", { type: "lambda", functionArn: FAILING_FORWARD_ARN }, 1),
    );
    const view = await ended(stage, id);
    expect(view.status).toBe("failed");
    expect(view.message).toMatch(/not finite|failed members/);
    const x = await until("the execution's end", async () => {
      const e = stage.sfn.executions.find((e) => e.name === id);
      return e && e.status !== "RUNNING" ? e : undefined;
    });
    expect([x.status, x.error]).toEqual(["FAILED", "JobFailed"]);
    // the outcome was published all the same
    expect(
      stage.sfn.events.some(
        (e) => (e.Detail as { id?: string }).id === id && (e.Detail as { status?: string }).status === "failed",
      ),
    ).toBe(true);
  });

  it("a cancel through the API stops the execution and keeps the completed iterations", async () => {
    const id = await submit(stage, mnistJob("deployed-cancel", 2, 500));
    await until(
      "two iterations",
      async () => ((await stage.api("GET", `/jobs/${id}`)).body.iteration >= 2 ? true : undefined),
      120_000,
    );
    const cancelled = await stage.api("DELETE", `/jobs/${id}`);
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect(cancelled.body.status).toBe("cancelled");
    const x = await until("the execution to stop", async () => {
      const e = stage.sfn.executions.find((e) => e.name === id);
      return e && e.status !== "RUNNING" ? e : undefined;
    });
    expect(x.status).toBe("ABORTED");
    const partial = await stage.api("GET", `/jobs/${id}/result`);
    expect(partial.status).toBe(200);
    expect(partial.body.result.partial).toBe(true);
    expect((await stage.api("DELETE", `/jobs/${id}`)).status).toBe(409);
  });
});
