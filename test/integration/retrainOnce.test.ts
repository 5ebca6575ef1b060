// Retraining that never goes backwards and never repeats itself (issue 26): a warm-started run
// scores its θ₀ as iteration 0, so a run that finds nothing better returns θ₀ itself (in process
// and through the state machine); the model keeps its champion when the retrain returns it; a
// firing whose dataset version and champion are those the last decision saw is skipped with the
// reason recorded, unless the schedule says always. And a run's timing names its start-up and
// its evaluations apart from the rest.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startLocalServer } from "../../local/server.ts";
import { apiClient, signsCsv } from "../support/api.ts";
import { runCli } from "../support/cli.ts";
import { until } from "../support/wait.ts";

const tmp = mkdtempSync(join(tmpdir(), "retrain-once-"));
writeFileSync(join(tmp, "d.csv"), signsCsv(300, 4));
const net = {
  type: "classification",
  data: { source: "csv", path: "d.csv", label: "y" },
  model: { type: "mlp", hidden: [5] },
  seed: 1,
};
/** a step far too long: every iteration makes the model worse */
const harmful = { method: "modified-enkf", ensembleSize: 6, stepSize: 400, lineSearch: false, seed: 3 };

describe("a warm start is scored as iteration 0", () => {
  it("a run that finds nothing better returns its θ₀, in process and through the state machine", () => {
    writeFileSync(
      join(tmp, "a.json"),
      JSON.stringify({
        name: "a",
        problem: net,
        optimizer: { ensembleSize: 6, seed: 2 },
        stop: { maxIterations: 20, evaluateEvery: 5 },
      }),
    );
    expect(runCli(["run", "a.json", "--out", "a", "--quiet"], { cwd: tmp }).code).toBe(0);
    for (const compute of [{}, { compute: { shards: 2 } }]) {
      const name = `b${Object.keys(compute).length}`;
      writeFileSync(
        join(tmp, `${name}.json`),
        JSON.stringify({
          name,
          problem: net,
          optimizer: harmful,
          stop: { maxIterations: 4, evaluateEvery: 1 },
          ...compute,
        }),
      );
      const r = runCli(["run", `${name}.json`, "--out", name, "--quiet", "--init-from", "a"], { cwd: tmp });
      expect(r.code, r.stderr).toBe(0);
      const result = JSON.parse(readFileSync(join(tmp, name, "result.json"), "utf8"));
      expect(result.best.iteration, name).toBe(0);
      expect(readFileSync(join(tmp, name, "theta.npy")).equals(readFileSync(join(tmp, "a", "theta.npy"))), name).toBe(
        true,
      );
      expect(result.last.metrics.validationLoss).toBeGreaterThan(result.metrics.validationLoss);
    }
  });

  it("a run's timing keeps its start-up and its evaluations apart from the RNG and the rest", () => {
    const timings = JSON.parse(readFileSync(join(tmp, "a", "result.json"), "utf8")).environment.timings;
    expect(timings.startup).toBeGreaterThan(0);
    expect(timings.evaluation).toBeGreaterThan(0);
    // the RNG workers' loading is start-up, not RNG time: K = 6 draws take a few milliseconds
    expect(timings.rng).toBeLessThan(timings.startup);
  });
});

describe("a schedule retrains only when something changed", () => {
  it("keeps the champion a retrain returns, then skips the firing that would repeat it, unless always", async () => {
    const token = "retrain-once-token-0123456789";
    const server = await startLocalServer({ location: join(tmp, "svc"), port: 0, token, workers: 1 });
    try {
      const call = apiClient(() => server.url, token);
      expect((await call("POST", "/datasets/signs/versions?label=y", { csv: signsCsv(300, 4) })).status).toBe(201);
      const template = {
        name: "retrain",
        problem: { ...net, data: { source: "dataset", name: "signs" } },
        optimizer: harmful,
        stop: { maxIterations: 3, evaluateEvery: 1 },
      };
      const sched = await call("POST", "/schedules", {
        json: { name: "nightly", expression: "rate(1 day)", template, promote: { model: "m" } },
      });
      expect(sched.status, JSON.stringify(sched.body)).toBe(201);
      const schedules = server.api.service.schedules;
      const outcome = (job: string) =>
        until(
          `job ${job}'s outcome`,
          async () =>
            ((await call("GET", `/jobs/${job}`)).body.promotion ?? undefined) as
              { promoted: boolean; decision: string } | undefined,
          60_000,
        );
      const first = await schedules.fire(sched.body.id, Date.UTC(2026, 11, 1));
      expect((await outcome(first!)).promoted).toBe(true);
      // warm-started from the champion, it finds nothing better: the champion stays
      const second = await schedules.fire(sched.body.id, Date.UTC(2026, 11, 2));
      const kept = await outcome(second!);
      expect(kept.promoted).toBe(false);
      expect(kept.decision).toMatch(
        /kept version 1: the retrain found nothing better than its start, the champion itself/,
      );
      // the same data and the same champion: a retrain would repeat it
      expect(await schedules.fire(sched.body.id, Date.UTC(2026, 11, 3))).toBeNull();
      const view = (await call("GET", "/schedules")).body.schedules[0];
      expect(view.lastSkipped.reason).toMatch(
        /nothing changed since version 2 .* the same dataset "signs" version 1 and the same champion \(version 1\)/,
      );
      expect((await call("GET", "/models/m/versions")).body.versions).toHaveLength(2);
      // always: it retrains anyway
      const always = await call("POST", "/schedules", {
        json: { name: "always", expression: "rate(1 day)", template, promote: { model: "m", always: true } },
      });
      expect(await schedules.fire(always.body.id, Date.UTC(2026, 11, 4))).not.toBeNull();
    } finally {
      await server.close();
    }
  });
});
