// Scheduled retraining as it runs on AWS, against real components on loopback: the service on an
// S3 store (s3rver, with S3's conditional writes), schedule firings started as EventBridge
// Scheduler starts them ({launch: {schedule, at}} into the real state machine, run locally), the
// Launch state resolving the newest dataset version and the champion as the warm start, the
// Outcome state promoting, and Publish outcome handing its detail to EventBridge (here, to the
// test). Then two promotions race on the S3 store through conditional writes (If-Match).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runLocalWorkflow } from "../../local/engine.ts";
import { Service } from "../../shared/service/service.ts";
import type { JobOutcome } from "../../shared/workflow/outcome.ts";
import { signsCsv } from "../support/api.ts";
import { raceAndCheck } from "../support/promotionRace.ts";
import { startS3Server, type S3Server } from "../support/s3server.ts";

let s3: S3Server;
let location = "";
const service = () =>
  new Service({
    location,
    endpoint: s3.endpoint,
    engine: { start: async () => undefined, stop: async () => undefined },
    scheduler: { allowSeconds: false, arm: async () => undefined, disarm: async () => undefined },
  });

beforeAll(async () => {
  s3 = await startS3Server();
  process.env.AWS_ACCESS_KEY_ID = s3.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = s3.credentials.secretAccessKey;
  location = `s3://${s3.bucket}/service`;
});
afterAll(async () => {
  await s3?.stop();
});

const template = {
  name: "nightly-s3",
  problem: {
    type: "classification",
    data: { source: "dataset", name: "signs" },
    model: { type: "mlp", hidden: [6] },
    seed: 3,
  },
  optimizer: { ensembleSize: 10, seed: 4 },
  stop: { maxIterations: 20, evaluateEvery: 5 },
  compute: { shards: 2 },
};
const upload = { label: "y", kind: "classification" as const, testFraction: 0.2, seed: 0 };

describe("retraining on an S3 store through the Launch and Outcome states", () => {
  it(
    "a firing on version 1 is promoted; the next, on version 2 and warm-started, is promoted " +
      "over it and published; a retried firing starts nothing",
    async () => {
      const svc = service();
      await svc.datasets.addVersion("signs", [new TextEncoder().encode(signsCsv(300, 1))], upload);
      const sched = await svc.schedules.create({
        name: "nightly",
        expression: "rate(1 day)",
        template: template as never,
        promote: { model: "signs-s3", metric: "validationAccuracy", minImprovement: 0, warmStart: true, always: false },
      });
      const published: JobOutcome[] = [];
      const states: string[] = [];
      const fire = (at: string) =>
        runLocalWorkflow({
          job: { store: "unused" },
          input: { launch: { schedule: sched.id, at } },
          launch: (e) => svc.launch(e),
          outcome: (e) => svc.outcome(e),
          publish: (d) => {
            published.push(d as JobOutcome);
          },
          onEvent: (e) => {
            if (e.type === "StateEntered" && e.state) states.push(e.state.name);
          },
        });

      await fire("2026-12-01T03:00:00Z");
      expect(states.slice(0, 4)).toEqual(["Start?", "Launch", "Launched?", "Init"]);
      expect(states.slice(-5)).toEqual(["Finalize", "Outcome", "Publish outcome", "Ended?", "Done"]);
      expect(published).toHaveLength(1);
      expect(published[0]).toMatchObject({
        status: "succeeded",
        promotion: { model: "signs-s3", promoted: true, version: 1 },
      });
      const first = published[0].id;

      await svc.datasets.addVersion("signs", [new TextEncoder().encode(signsCsv(600, 2))], upload);
      await fire("2026-12-02T03:00:00Z");
      expect(published).toHaveLength(2);
      const second = published[1];
      expect(second.metrics.validationAccuracy).toBeGreaterThan(0.5);
      const rec = await svc.jobs.record(second.id);
      expect(rec.warmStart).toEqual({ model: "signs-s3", version: 1, job: first });
      expect(rec.promote).toMatchObject({ model: "signs-s3", metric: "validationAccuracy" });
      const versions = await svc.models.versions("signs-s3");
      expect(versions.versions.map((v) => [v.job, v.dataset.version, v.comparedWith])).toEqual([
        [first, 1, null],
        [second.id, 2, 1],
      ]);
      // the rule decided on validation accuracy, both measured on version 2's validation rows
      const v2 = versions.versions[1];
      expect(v2.promoted).toBe(v2.metrics.challenger!.validationAccuracy >= v2.metrics.champion!.validationAccuracy);
      expect(second.promotion).toMatchObject({ promoted: v2.promoted, version: 2 });
      expect(versions.champion).toBe(v2.promoted ? 2 : 1);

      // EventBridge Scheduler retries a firing: the same time starts nothing new
      states.length = 0;
      await fire("2026-12-02T03:00:00Z");
      expect(states).toEqual(["Start?", "Launch", "Launched?", "Duplicate firing"]);
      expect(published).toHaveLength(2);
      expect((await svc.models.versions("signs-s3")).versions).toHaveLength(2);
    },
    120_000,
  );

  it(
    "two promotions racing from two service instances: If-Match lets one write win, the other " +
      "re-reads and decides again",
    async () => {
      const jobs = (await service().jobs.list(100)).jobs
        .filter((j) => j.name === "nightly-s3" && j.status === "succeeded")
        .map((j) => j.id);
      expect(jobs).toHaveLength(2);
      const { lost } = await raceAndCheck(service, jobs);
      expect(lost).toBe(1);
    },
    60_000,
  );
});
