// The smaller holes found by attacking enkf serve (issue 25 §5), over real HTTP: a short read
// token; an http forward naming any host (and errors that told a closed port from a listening
// service); CSV cells JavaScript reads as numbers (0x10, 0b11, +5); a predict CSV with a column
// twice; 1e309; 404 and 405 answered before authentication; GET /datasets reading every manifest,
// unpaginated; every job copying its dataset; rounds never pruned.

import { createServer } from "node:http";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalServer, type LocalServer } from "../../local/server.ts";
import { apiClient, signsCsv } from "../support/api.ts";
import { runCli } from "../support/cli.ts";
import { until } from "../support/wait.ts";

const TOKEN = "holes-test-token-0123456789";
const dir = mkdtempSync(join(tmpdir(), "holes-"));
let server: LocalServer;
const call = apiClient(() => server.url, TOKEN);
beforeAll(async () => {
  server = await startLocalServer({ location: join(dir, "svc"), port: 0, token: TOKEN, workers: 1 });
});
afterAll(async () => {
  await server?.close();
});

const ended = (id: string) =>
  until(
    `job ${id}`,
    async () => {
      const v = (await call("GET", `/jobs/${id}`)).body;
      return ["succeeded", "failed"].includes(v.status) ? v : undefined;
    },
    120_000,
  );
const du = (path: string): number =>
  statSync(path).isDirectory() ? readdirSync(path).reduce((n, e) => n + du(join(path, e)), 0) : statSync(path).size;

describe("the smaller holes", () => {
  it("refuses a read token shorter than 16 characters, or the same as the write token", () => {
    for (const env of [
      { ENKF_TOKEN: TOKEN, ENKF_READ_TOKEN: "a" },
      { ENKF_TOKEN: TOKEN, ENKF_READ_TOKEN: TOKEN },
    ]) {
      const r = runCli(["serve", "--port", "0", "--data", join(dir, "never")], { env, timeout: 20_000 });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/ENKF_READ_TOKEN is (shorter than 16 characters|the same as ENKF_TOKEN)/);
    }
  });

  it("calls http forwards only on allowed hosts, and says no more than that a probe failed", async () => {
    const lorenz = (url: string) => ({
      name: "f",
      problem: {
        type: "inverse",
        forward: { type: "http", url, timeoutMs: 300, retries: 0 },
        observations: { values: [1], noise: { std: [1] } },
        parameters: [{ name: "a", prior: { mean: 1, std: 1 } }],
      },
      optimizer: { method: "modified-enkf", ensembleSize: 2 },
      stop: { maxIterations: 1 },
    });
    const refused = await call("POST", "/jobs", { json: lorenz("http://127.0.0.1:9/forward") });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details).toEqual([{ path: "problem.forward.url", message: "host not allowed" }]);
    // allowed: a closed port and a listening service that is no forward answer alike
    const other = createServer((_q, r) => {
      r.writeHead(200);
      r.end("hello");
    });
    await new Promise<void>((r) => other.listen(0, "127.0.0.1", () => r()));
    const port = (other.address() as { port: number }).port;
    const allowed = await startLocalServer({
      location: join(dir, "svc2"),
      port: 0,
      token: TOKEN,
      workers: 1,
      forwardHosts: ["127.0.0.1"],
    });
    try {
      const c = apiClient(() => allowed.url, TOKEN);
      const closed = await c("POST", "/jobs", { json: lorenz("http://127.0.0.1:9/forward") });
      const listening = await c("POST", "/jobs", { json: lorenz(`http://127.0.0.1:${port}/forward`) });
      expect([closed.status, listening.status]).toEqual([400, 400]);
      expect(closed.body.error).toEqual(listening.body.error);
      expect(closed.body.error.message).toBe("problem.forward.url did not answer a forward at the prior mean");
    } finally {
      await allowed.close();
      other.close();
    }
  });

  it(
    "reads CSV cells as decimal numbers only, refuses a predict CSV with a column twice, and " +
      "says 1e309 is out of range",
    async () => {
      const up = await call("POST", "/datasets/hex/versions?label=y", { csv: "a,b,y\n1,2,u\n0x10,3,v\n4,5,u\n" });
      expect(up.status).toBe(400);
      expect(up.body.error.message).toMatch(/line 3, column "a": "0x10" is not a number in decimal notation/);
      for (const cell of ["0b11", "+5"])
        expect(
          (await call("POST", "/datasets/hex/versions?label=y", { csv: `a,b,y\n1,2,u\n${cell},3,v\n4,5,u\n` })).status,
        ).toBe(400);
      expect((await call("POST", "/datasets/signs/versions?label=y", { csv: signsCsv(120, 1) })).status).toBe(201);
      const job = await call("POST", "/jobs", {
        json: {
          name: "p",
          problem: {
            type: "classification",
            data: { source: "dataset", name: "signs" },
            model: { type: "mlp", hidden: [3] },
          },
          optimizer: { ensembleSize: 4 },
          stop: { maxIterations: 3 },
        },
      });
      expect((await ended(job.body.id)).status).toBe("succeeded");
      const twice = await call("POST", `/jobs/${job.body.id}/predict`, { csv: "a,b,a\n1,2,3\n" });
      expect(twice.status).toBe(400);
      expect(twice.body.error.message).toMatch(/column "a" appears twice/);
      const huge = await fetch(`${server.url}/jobs/${job.body.id}/predict`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: '{"rows":[{"a":1e309,"b":1}]}',
      });
      expect(huge.status).toBe(400);
      expect(((await huge.json()) as { error: { message: string } }).error.message).toMatch(
        /column "a": the value is out of range/,
      );
    },
  );

  it("answers 401 to an unauthenticated request on any path and method", async () => {
    for (const [method, path] of [
      ["GET", "/nope"],
      ["DELETE", "/jobs"],
      ["PUT", "/jobs"],
      ["POST", "/models"],
      ["GET", "/jobs/x/y/z"],
    ]) {
      const r = await fetch(server.url + path, { method });
      expect(r.status, `${method} ${path}`).toBe(401);
    }
    expect((await call("GET", "/nope")).status).toBe(404);
  });

  it("lists datasets a page at a time without reading their files", async () => {
    for (const name of ["p1", "p2"])
      expect((await call("POST", `/datasets?name=${name}&label=y`, { csv: signsCsv(50, 2) })).status).toBe(201);
    // a listing that read the manifests would fail on this one
    const ids = readdirSync(join(dir, "svc", "datasets"));
    rmSync(join(dir, "svc", "datasets", ids[0], "manifest.json"));
    const first = await call("GET", "/datasets?limit=2");
    expect(first.status).toBe(200);
    expect(first.body.datasets).toHaveLength(2);
    expect(first.body.datasets[0].rows.train).toBeGreaterThan(0);
    const next = await call("GET", `/datasets?limit=2&cursor=${first.body.nextCursor}`);
    expect(next.body.datasets.length).toBeGreaterThanOrEqual(1);
    expect(next.body.datasets.map((d: { id: string }) => d.id)).not.toContain(first.body.datasets[0].id);
  });

  it("stores a dataset once for all its jobs, and prunes a finished job's rounds", async () => {
    const spec = (seed: number) => ({
      name: `m${seed}`,
      problem: { type: "classification", data: { source: "mnist" }, model: { type: "mlp", hidden: [4] }, seed },
      optimizer: { ensembleSize: 4, batchSize: 200 },
      stop: { maxIterations: 4 },
      compute: { shards: 2 },
    });
    const a = await call("POST", "/jobs", { json: spec(1) }),
      b = await call("POST", "/jobs", { json: spec(2) });
    expect((await ended(a.body.id)).status).toBe("succeeded");
    expect((await ended(b.body.id)).status).toBe("succeeded");
    const blobs = du(join(dir, "svc", "blobs"));
    expect(blobs).toBeGreaterThan(20e6); // the digits, once
    expect(blobs).toBeLessThan(40e6);
    for (const id of [a.body.id, b.body.id]) {
      const job = join(dir, "svc", "jobs", id);
      // finalize prunes after result.json (which says succeeded); the outcome comes after both
      await until("the outcome", async () => (existsSync(join(job, "outcome.json")) ? true : undefined));
      expect(du(job)).toBeLessThan(2e6);
      expect(existsSync(join(job, "rounds"))).toBe(false);
      expect(readdirSync(join(job, "state")).filter((f) => f.endsWith(".bin"))).toHaveLength(1);
    }
  });
});
