// enkf serve on a real full disk: its data on a small tmpfs this test mounts (as root; elsewhere
// it is skipped with the reason, and CI, which runs as root, always runs it). Jobs, dataset
// versions and promotions go in until writes fail; while the disk is full every write answers
// 507 and reads still work; once space is freed, every route answers 2xx or 4xx, every stored
// object reads, nothing temporary is left, and every job has finished or failed with its reason.

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalServer, type LocalServer } from "../../local/server.ts";
import { evaluatePool } from "../../local/evaluatePool.ts";
import { StoreFullError } from "../../shared/store/blobStore.ts";
import { localStore } from "../../shared/store/localStore.ts";
import { workflowHandlers } from "../../shared/workflow/handlers.ts";
import { recordFailure } from "../../shared/workflow/outcome.ts";
import { prepareJob } from "../../shared/workflow/shardJob.ts";
import { randomClassification } from "../support/synthetic.ts";
import { apiClient, signsCsv } from "../support/api.ts";
import { until } from "../support/wait.ts";

const TOKEN = "full-disk-test-token-0123456789";
const mountPoint = mkdtempSync(join(tmpdir(), "enkf-full-"));
let mounted = false;
let why = "";
try {
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=12m", "tmpfs", mountPoint], { stdio: "pipe" });
  mounted = true;
} catch (e) {
  why = `cannot mount a tmpfs here (${
    String((e as { stderr?: Buffer }).stderr ?? e)
      .trim()
      .split("\n")[0]
  }); run as root`;
  if (process.env.CI) throw new Error(`the full-disk test must run in CI: ${why}`);
}
const data = join(mountPoint, "data");
const dataset = randomClassification(120, 3, 2, 10, 4, 0);
let server: LocalServer;
const call = apiClient(() => server.url, TOKEN);

const job = (name: string, iterations: number, seed = 1) => ({
  name,
  problem: {
    type: "classification",
    data: { source: "dataset", name: "signs" },
    model: { type: "mlp", hidden: [6] },
    seed,
  },
  optimizer: { ensembleSize: 8, seed: 2 },
  stop: { maxIterations: iterations, evaluateEvery: 5 },
  compute: { shards: 2 },
});
const ended = (id: string) =>
  until(
    `job ${id} to end`,
    async () => {
      const v = (await call("GET", `/jobs/${id}`)).body;
      return v.status === "succeeded" || v.status === "failed" || v.status === "cancelled" ? v : undefined;
    },
    120_000,
  );

/** Fills the file system with a file of its own until it refuses; returns the file. */
function fill(): string {
  const file = join(mountPoint, "filler");
  const fd = openSync(file, "w");
  try {
    for (const size of [1 << 20, 1 << 14, 1 << 10, 64, 1]) {
      const chunk = Buffer.alloc(size, 7);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOSPC") throw e;
      }
    }
  } finally {
    closeSync(fd);
  }
  return file;
}

beforeAll(async () => {
  if (!mounted) return;
  mkdirSync(data);
  server = await startLocalServer({ location: data, port: 0, token: TOKEN, concurrency: 2, workers: 1 });
});
afterAll(async () => {
  await server?.close();
  if (mounted) execFileSync("umount", [mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
});

describe.skipIf(!mounted)(`enkf serve on a full disk${mounted ? "" : ` (skipped: ${why})`}`, () => {
  it("answers 507 while full, loses nothing, and ends every job once space is freed", async () => {
    expect((await call("POST", "/datasets/signs/versions?label=y", { csv: signsCsv(300, 1) })).status).toBe(201);
    const a = await call("POST", "/jobs", { json: job("before", 6) });
    expect(a.status).toBe(202);
    expect((await ended(a.body.id)).status).toBe("succeeded");
    expect((await call("POST", "/models/dm/promote", { json: { job: a.body.id } })).status).toBe(200);
    // a job that is still running when the disk fills
    // (it keeps its rounds: a job prunes its old rounds as it goes, which would free space under
    // the filler and let the writes below through)
    const running = await call("POST", "/jobs", {
      json: { ...job("during", 400, 2), compute: { shards: 2, keepRounds: true } },
    });
    expect(running.status).toBe(202);
    await until("the job to run", async () =>
      (await call("GET", `/jobs/${running.body.id}`)).body.iteration >= 2 ? true : undefined,
    );

    const filler = fill();
    const jobsBefore = readdirSync(join(data, "jobs")).length;
    // every write is refused with 507 and a message that says so; reads go on
    const writes = [
      await call("POST", "/jobs", { json: job("refused", 5) }),
      await call("POST", "/models/other/promote", { json: { job: a.body.id } }),
      await call("POST", "/datasets/signs/versions?label=y", { csv: signsCsv(300, 3) }),
      await call("POST", "/schedules", { json: { name: "s", expression: "rate(1 day)", template: job("t", 3) } }),
    ];
    for (const w of writes) {
      expect(w.status, JSON.stringify(w.body)).toBe(507);
      expect(w.body.error.message).toMatch(/storage is full/);
    }
    expect(readdirSync(join(data, "jobs")).length, "a refused submission leaves no job directory").toBe(jobsBefore);
    for (const path of [
      "/jobs",
      `/jobs/${a.body.id}`,
      "/models",
      "/models/dm",
      "/models/dm/versions",
      "/models/dm/model.onnx",
      "/datasets",
    ]) {
      expect((await call("GET", path)).status, path).toBe(200);
    }
    // the running job cannot write its rounds: it fails, and says why, even before failure.json can be written
    const during = await ended(running.body.id);
    expect(during.status).toBe("failed");
    expect(during.message).toMatch(/storage/);

    rmSync(filler);
    // the failure is recorded once there is room
    await until(
      "the failure on disk",
      async () => (readdirSync(join(data, "jobs", running.body.id)).includes("failure.json") ? true : undefined),
      20_000,
    );
    for (const path of [
      "/jobs",
      `/jobs/${a.body.id}`,
      `/jobs/${running.body.id}`,
      `/jobs/${running.body.id}/history`,
      "/models",
      "/models/dm",
      "/models/dm/versions",
      "/models/dm/model.onnx",
      "/datasets",
      "/datasets/signs/versions",
      "/schedules",
    ]) {
      const r = await call("GET", path);
      expect(r.status < 500, `${path}: ${r.status} ${JSON.stringify(r.body)}`).toBe(true);
    }
    expect((await call("GET", "/models/dm")).body.champion.job).toBe(a.body.id);
    // every object reads, and nothing temporary is left
    const store = localStore(data);
    const unreadable: string[] = [];
    for (const key of await store.list(""))
      await store.get(key).catch((e: Error) => unreadable.push(`${key}: ${e.message}`));
    expect(unreadable).toEqual([]);
    const tmp = readdirSync(data, { recursive: true, encoding: "utf8" }).filter((f) =>
      f.split("/").pop()!.startsWith(".tmp-"),
    );
    expect(tmp).toEqual([]);
    // and the server works again
    const after = await call("POST", "/jobs", { json: job("after", 4) });
    expect(after.status).toBe(202);
    expect((await ended(after.body.id)).status).toBe("succeeded");
    for (const j of (await call("GET", "/jobs?limit=100")).body.jobs) {
      expect(["succeeded", "failed"], j.id).toContain(j.status);
      if (j.status === "failed") expect(j.message).toBeTruthy();
    }
  });

  it("an evaluate task on a worker thread that cannot write its partial fails as a full store", async () => {
    const dir = join(mountPoint, "pool-job");
    await prepareJob(localStore(dir), { ...job("pool", 3), compute: { shards: 2, backend: "reference" } }, dataset, 2);
    await workflowHandlers().init({ job: { store: dir } });
    const pool = evaluatePool(1);
    const filler = fill();
    try {
      const failed = await pool.run({ job: { store: dir }, round: 0, item: 0, op: "evaluate" }).catch((e) => e);
      // the class crosses the thread: the server's runner reports a full storage, not a stack of names
      expect(failed).toBeInstanceOf(StoreFullError);
      expect((failed as Error).message).toMatch(/cannot write rounds\/000000\/partials\/000000\.bin: ENOSPC/);
    } finally {
      rmSync(filler);
      await pool.close();
    }
  });

  it("records a task that failed on a full store as the storage filling up, in words", async () => {
    const dir = mkdtempSync(join(tmpdir(), "enkf-failure-"));
    const store = localStore(dir);
    await recordFailure(store, { Error: "StoreFullError", Cause: "x: cannot write y: ENOSPC" });
    const failure = JSON.parse(readFileSync(join(dir, "failure.json"), "utf8"));
    expect(failure).toMatchObject({ status: "failed", error: "StorageFull" });
    expect(failure.cause).toMatch(/storage filled up while the job ran \(x: cannot write y: ENOSPC\)/);
    await recordFailure(store, { Error: "InjectedFault", Cause: "round 2" });
    expect(JSON.parse(readFileSync(join(dir, "failure.json"), "utf8"))).toMatchObject({
      error: "InjectedFault",
      cause: "round 2",
    });
  });
});
