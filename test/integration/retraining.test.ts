// Scheduled retraining (issue 15): a schedule with a promotion rule retrains a model on the newest
// dataset version, warm-starting from the champion, and the job's final state (Outcome) promotes
// it only when it is not worse on its own validation split. Real HTTP on loopback (enkf serve's
// server, the real state machine run locally), a directory store; the registry's conditional
// writes are raced on the directory store here and on a real S3-compatible server in
// retrainingS3.test.ts.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalServer, type LocalServer } from "../../local/server.ts";
import { Service } from "../../shared/service/service.ts";
import type { JobOutcome } from "../../shared/workflow/outcome.ts";
import { apiClient, signsCsv } from "../support/api.ts";
import { until } from "../support/wait.ts";
import { raceAndCheck } from "../support/promotionRace.ts";

const TOKEN = "retraining-test-token-0123456789";
const tmp = mkdtempSync(join(tmpdir(), "enkf-retrain-"));
let server: LocalServer;
const outcomes: JobOutcome[] = [];
const call = apiClient(() => server.url, TOKEN);

const template = (
  name: string,
  over: { maxIterations?: number; seed?: number; hidden?: number[]; data?: string } = {},
) => ({
  name,
  problem: {
    type: "classification",
    data: { source: "dataset", name: over.data ?? "signs" },
    model: { type: "mlp", hidden: over.hidden ?? [8] },
    seed: over.seed ?? 1,
  },
  optimizer: { ensembleSize: 12, seed: 2 },
  stop: { maxIterations: over.maxIterations ?? 40, evaluateEvery: 5 },
});
const record = (id: string) =>
  JSON.parse(readFileSync(join(tmp, "jobs", id, "job.json"), "utf8")) as {
    warmStart?: { model?: string; version?: number; job: string };
    promote?: unknown;
  };
const specOf = (id: string) =>
  JSON.parse(readFileSync(join(tmp, "jobs", id, "spec.json"), "utf8")) as { problem: { data: { version: number } } };
const jobsNamed = async (name: string) =>
  ((await call("GET", "/jobs?limit=100")).body.jobs as { id: string; name: string; status: string }[]).filter(
    (j) => j.name === name,
  );
const outcomeOf = (id: string) => until(`job ${id}'s outcome`, async () => outcomes.find((o) => o.id === id), 60_000);

beforeAll(async () => {
  server = await startLocalServer({
    location: tmp,
    port: 0,
    token: TOKEN,
    concurrency: 2,
    workers: 1,
    onOutcome: (d) => outcomes.push(d),
  });
});
afterAll(async () => {
  await server?.close();
});

describe("scheduled retraining with promotion (enkf serve)", () => {
  it(
    "fires on version 1, then on version 2 warm-started from the champion and promoted; a " +
      "worse challenger is kept out; the versions list all three decisions",
    async () => {
      expect((await call("POST", "/datasets/signs/versions?label=y", { csv: signsCsv(300, 1) })).status).toBe(201);
      const sched = await call("POST", "/schedules", {
        json: {
          name: "nightly",
          expression: "rate(1 second)",
          template: template("retrain"),
          promote: { model: "signs-model", metric: "validationLoss" },
        },
      });
      expect(sched.status, JSON.stringify(sched.body)).toBe(201);

      // the first firing trains on version 1, from the seeded initialization (no champion yet)
      const [first] = await until(
        "the first firing's job",
        async () => {
          const j = await jobsNamed("retrain");
          return j.length ? j : undefined;
        },
        20_000,
      );
      const v2 = await call("POST", "/datasets/signs/versions?label=y", { csv: signsCsv(600, 2) });
      expect(v2.body.version).toBe(2);
      expect(
        outcomes.find((o) => o.id === first.id),
        "version 2 must arrive while the first job runs",
      ).toBeUndefined();
      expect(specOf(first.id).problem.data.version).toBe(1);
      expect(record(first.id).warmStart).toBeUndefined();
      const o1 = await outcomeOf(first.id);
      expect(o1).toMatchObject({
        status: "succeeded",
        promotion: { model: "signs-model", promoted: true, version: 1 },
      });

      // firings never overlap: the next one comes after the first job's outcome, on version 2, from the champion
      const second = await until(
        "the second firing's job",
        async () => (await jobsNamed("retrain")).find((j) => j.id !== first.id),
        20_000,
      );
      expect((await call("DELETE", `/schedules/${sched.body.id}`)).status).toBe(204);
      expect(specOf(second.id).problem.data.version).toBe(2);
      expect(record(second.id).warmStart).toEqual({ model: "signs-model", version: 1, job: first.id });
      const o2 = await outcomeOf(second.id);
      expect(o2.promotion, JSON.stringify(o2.promotion)).toMatchObject({ promoted: true, version: 2 });
      // both measured on job 2's validation split: the challenger's number is its own run's (there
      // through the kernel's forward, here through the reference forward)
      const m2 = o2.promotion!.metrics!;
      expect(m2.challenger!.validationLoss).toBeLessThanOrEqual(m2.champion!.validationLoss);
      const run2 = (await call("GET", `/jobs/${second.id}/result`)).body.result.metrics;
      expect(Math.abs(m2.challenger!.validationLoss - run2.validationLoss)).toBeLessThan(1e-4 * run2.validationLoss);
      const view2 = (await call("GET", `/jobs/${second.id}`)).body;
      expect(view2).toMatchObject({
        warmStart: { model: "signs-model", version: 1, job: first.id },
        promotion: { model: "signs-model", promoted: true, version: 2 },
      });
      const leftovers = (await jobsNamed("retrain")).filter((j) => j.id !== first.id && j.id !== second.id);
      expect(leftovers, "no firing after the schedule was deleted").toEqual([]);

      // a deliberately worse challenger: one iteration from the seeded initialization
      const worse = await call("POST", "/schedules", {
        json: {
          name: "worse",
          expression: "rate(1 second)",
          template: template("worse", { maxIterations: 1, seed: 7 }),
          promote: { model: "signs-model", warmStart: false },
        },
      });
      expect(worse.status, JSON.stringify(worse.body)).toBe(201);
      const [third] = await until(
        "the worse job",
        async () => {
          const j = await jobsNamed("worse");
          return j.length ? j : undefined;
        },
        20_000,
      );
      expect((await call("DELETE", `/schedules/${worse.body.id}`)).status).toBe(204);
      const o3 = await outcomeOf(third.id);
      expect(o3.promotion, JSON.stringify(o3.promotion)).toMatchObject({ promoted: false, version: 3 });
      expect(o3.promotion!.metrics!.challenger!.validationLoss).toBeGreaterThan(
        o3.promotion!.metrics!.champion!.validationLoss,
      );
      expect(o3.promotion!.decision).toMatch(/kept version 2: validationLoss .* is not below the champion's/);

      const versions = (await call("GET", "/models/signs-model/versions")).body;
      expect(versions.champion).toBe(2);
      expect(
        versions.versions.map(
          (v: { job: string; promoted: boolean; comparedWith: number | null; dataset: { version: number } }) => [
            v.job,
            v.promoted,
            v.comparedWith,
            v.dataset.version,
          ],
        ),
      ).toEqual([
        [first.id, true, null, 1],
        [second.id, true, 1, 2],
        [third.id, false, 2, 2],
      ]);
      for (const v of versions.versions) {
        expect(v.by).toBe(`schedule ${v.job === third.id ? worse.body.id : sched.body.id}`);
        expect(
          Number.isFinite(v.metrics.challenger.validationLoss) &&
            Number.isFinite(v.metrics.challenger.validationAccuracy),
        ).toBe(true);
        expect(Date.parse(v.decidedAt)).toBeGreaterThan(0);
      }
      const model = (await call("GET", "/models/signs-model")).body;
      expect(model).toMatchObject({
        name: "signs-model",
        kind: "classification",
        features: ["a", "b"],
        outputs: ["down", "up"],
        versions: 3,
        champion: { version: 2, job: second.id },
      });
      expect((await call("GET", "/models")).body.models.map((m: { name: string }) => m.name)).toContain("signs-model");
      // the champion's ONNX file is its job's
      const onnx = await fetch(`${server.url}/models/signs-model/model.onnx`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      const jobOnnx = await fetch(`${server.url}/jobs/${second.id}/model.onnx`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(onnx.status).toBe(200);
      expect(Buffer.from(await onnx.arrayBuffer()).equals(Buffer.from(await jobOnnx.arrayBuffer()))).toBe(true);
    },
    180_000,
  );

  it("refuses bad inputs with a 4xx naming the field, and changes nothing", async () => {
    await until(
      "the model",
      async () => ((await call("GET", "/models/signs-model")).status === 200 ? true : undefined),
      5_000,
    );
    const jobsBefore = (await call("GET", "/jobs?limit=100")).body.jobs.length;
    const versionsBefore = JSON.stringify((await call("GET", "/models/signs-model/versions")).body);

    const unknown = await call("POST", "/jobs", {
      json: { ...template("x"), problem: { ...template("x").problem, initial: { fromModel: "no-such-model" } } },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details).toContainEqual({ path: "problem.initial.fromModel", message: "unknown model" });
    expect((await call("GET", "/models/no-such-model")).status).toBe(404);

    const mismatched = await call("POST", "/jobs", {
      json: {
        ...template("x"),
        problem: { ...template("x", { hidden: [3] }).problem, initial: { fromModel: "signs-model" } },
      },
    });
    expect(mismatched.status).toBe(400);
    expect(mismatched.body.error.details[0].path).toBe("problem.initial.fromModel");
    expect(mismatched.body.error.message).toMatch(/model\.hidden: \[3\] here, \[8\] there/);

    const columns = await call("POST", "/datasets/signs/versions?label=y", { csv: signsCsv(50, 9, "a,c,y") });
    expect(columns.status).toBe(400);
    expect(columns.body.error.details[0].path).toBe("columns");
    expect(columns.body.error.message).toMatch(/missing "b"; new "c"/);

    const schedule = await call("POST", "/schedules", {
      json: {
        name: "bad",
        expression: "rate(1 hour)",
        template: template("x"),
        promote: { model: "signs-model", metric: "accuracy" },
      },
    });
    expect(schedule.status).toBe(400);
    expect(JSON.stringify(schedule.body.error.details)).toContain("promote.metric");

    // a failed job (every evaluate of round 0 fails permanently) is never promoted
    process.env.ENKF_FAULTS = "evaluate=permanent@0";
    let failed: string;
    try {
      failed = (await call("POST", "/jobs", { json: template("doomed", { maxIterations: 2 }) })).body.id;
      await until(
        "the job to fail",
        async () => ((await call("GET", `/jobs/${failed}`)).body.status === "failed" ? true : undefined),
        30_000,
      );
    } finally {
      delete process.env.ENKF_FAULTS;
    }
    const promote = await call("POST", "/models/signs-model/promote", { json: { job: failed } });
    expect(promote.status).toBe(409);
    expect(promote.body.error.details[0].path).toBe("job");
    expect(promote.body.error.message).toMatch(/is failed/);
    expect((await call("POST", "/models/signs-model/promote", { json: { job: "j-no-such-job" } })).status).toBe(404);
    expect((await call("POST", "/models/signs-model/promote", { json: {} })).status).toBe(400);

    expect((await call("GET", "/jobs?limit=100")).body.jobs.length).toBe(jobsBefore + 1); // the failed job only
    expect(JSON.stringify((await call("GET", "/models/signs-model/versions")).body)).toBe(versionsBefore);
  }, 90_000);

  it(
    "two promotions racing from two service instances on the directory store: both recorded, " +
      "the later measured against the earlier, the pointer consistent",
    async () => {
      expect((await call("POST", "/datasets/race-data/versions?label=y", { csv: signsCsv(300, 5) })).status).toBe(201);
      const ids: string[] = [];
      for (const seed of [11, 12])
        ids.push(
          (
            await call("POST", "/jobs", {
              json: template(`racer-${seed}`, { maxIterations: 10, seed, data: "race-data" }),
            })
          ).body.id,
        );
      for (const id of ids)
        await until(
          `job ${id}`,
          async () => ((await call("GET", `/jobs/${id}`)).body.status === "succeeded" ? true : undefined),
          60_000,
        );
      await raceAndCheck(
        () =>
          new Service({
            location: tmp,
            engine: { start: async () => undefined, stop: async () => undefined },
            scheduler: { allowSeconds: true, arm: async () => undefined, disarm: async () => undefined },
          }),
        ids,
      );
    },
    90_000,
  );
});
