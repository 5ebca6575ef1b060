// The HTTP API over real HTTP on 127.0.0.1: `enkf serve`'s server (the local state machine as the
// engine, in-process timers as the scheduler) driven with fetch: a job's lifecycle, cancel,
// idempotency, schedules, authentication, limits, a restart that resumes a job, a fuzz test, and
// the OpenAPI document.
import { until } from "../support/wait.ts";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalServer, type LocalServer } from "../../local/server.ts";
import { runLocalWorkflow } from "../../local/engine.ts";
import { decodeShards, parseManifest } from "../../shared/data/shards.ts";
import { withValidation } from "../../shared/data/validation.ts";
import { localStore } from "../../shared/store/localStore.ts";
import { prepareJob } from "../../shared/workflow/shardJob.ts";

const TOKEN = "api-test-token-0123456789";
const READ = "api-test-read-token-0123456789";

/** A two-feature classification CSV: the class is the sign of a + b. */
function csv(rows: number): string {
  let s = 0x2545f491;
  const r = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const lines = ["a,b,y"];
  for (let i = 0; i < rows; i++) {
    const a = r(),
      b = r();
    lines.push(`${a.toFixed(5)},${b.toFixed(5)},${a + b > 0 ? 1 : 0}`);
  }
  return lines.join("\n") + "\n";
}

const jobSpec = (dataset: string, iterations: number, name = "api-job") => ({
  name,
  problem: {
    type: "classification",
    data: { source: "dataset", id: dataset },
    model: { type: "mlp", hidden: [6] },
    seed: 1,
  },
  optimizer: { method: "modified-enkf", ensembleSize: 8, batchSize: 80, seed: 2 },
  stop: { maxIterations: iterations },
  compute: { shards: 2, backend: "reference" },
});

interface Reply {
  status: number;
  headers: Headers;
  body: any;
  bytes: Uint8Array;
}

async function call(
  server: LocalServer,
  method: string,
  path: string,
  opts: {
    json?: unknown;
    body?: string | Uint8Array;
    type?: string;
    token?: string | null;
    headers?: Record<string, string>;
  } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? TOKEN}`;
  let body: string | Uint8Array | undefined = opts.body;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers["content-type"] = "application/json";
  }
  if (opts.type) headers["content-type"] = opts.type;
  const res = await fetch(server.url + path, { method, headers, body: body as string | undefined });
  const bytes = new Uint8Array(await res.arrayBuffer());
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    /* not JSON */
  }
  return { status: res.status, headers: res.headers, body: parsed, bytes };
}

const status = (server: LocalServer, id: string, want: (s: any) => boolean) =>
  until(`job ${id}`, async () => {
    const r = await call(server, "GET", `/jobs/${id}`);
    return want(r.body) ? r.body : undefined;
  });

let dir: string;
let server: LocalServer;
let dataset: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "api-"));
  server = await startLocalServer({
    location: dir,
    port: 0,
    token: TOKEN,
    readToken: READ,
    concurrency: 2,
    workers: 1,
    jsonLimit: 64 << 10,
  });
  const up = await call(server, "POST", "/datasets?name=signs&label=y", { body: csv(300), type: "text/csv" });
  expect(up.status, JSON.stringify(up.body)).toBe(201);
  dataset = up.body.id;
});
afterAll(async () => {
  await server?.close();
});

describe("a job's lifecycle over HTTP", () => {
  it("submit → poll → result, with θ equal to the same job run directly on the local state machine", async () => {
    const spec = jobSpec(dataset, 15);
    const sub = await call(server, "POST", "/jobs", { json: spec });
    expect(sub.status).toBe(202);
    expect(sub.body.status).toMatch(/queued|running/);
    expect(sub.body.links.self).toBe(`/jobs/${sub.body.id}`);
    const done = await status(server, sub.body.id, (j) => j.status === "succeeded");
    expect(done.iteration).toBe(15);
    expect(done.progress).toBe(1);
    expect(done.metrics.testAccuracy).toBeGreaterThan(0.8);
    const hist = await call(server, "GET", `/jobs/${sub.body.id}/history`);
    expect(hist.body.history.length).toBe(15);
    const res = await call(server, "GET", `/jobs/${sub.body.id}/result`);
    expect(res.status).toBe(200);
    expect(res.body.result.iterations).toBe(15);
    const theta = await call(server, "GET", res.body.theta.url);
    expect(theta.headers.get("content-type")).toBe("application/octet-stream");
    expect(theta.bytes.length).toBe(res.body.theta.bytes);
    // the same spec and data, prepared and run without the API
    const ds = join(dir, "datasets", dataset);
    const manifest = parseManifest(readFileSync(join(ds, "manifest.json"), "utf8"), "test");
    // with the validation split the service carves as enkf run does (data/load.ts)
    const data = withValidation(
      await decodeShards(manifest, async (p) => new Uint8Array(readFileSync(join(ds, p))), "test"),
      0.1,
      "test",
    );
    const direct = mkdtempSync(join(tmpdir(), "api-direct-"));
    await prepareJob(localStore(direct), spec, data, 2);
    await runLocalWorkflow({ job: { store: direct } });
    expect(Buffer.from(theta.bytes).equals(readFileSync(join(direct, "theta.npy")))).toBe(true);
    // a finished job cannot be cancelled
    expect((await call(server, "DELETE", `/jobs/${sub.body.id}`)).status).toBe(409);
  });

  it("cancels a running job: the status becomes cancelled and the completed iterations are kept", async () => {
    const sub = await call(server, "POST", "/jobs", { json: jobSpec(dataset, 100_000, "long") });
    const running = await status(server, sub.body.id, (j) => j.status === "running" && j.iteration >= 2);
    expect(running.etaSeconds).toBeGreaterThan(0);
    const del = await call(server, "DELETE", `/jobs/${sub.body.id}`);
    expect(del.status).toBe(200);
    expect(del.body.status).toBe("cancelled");
    await new Promise((r) => setTimeout(r, 300));
    const after = await call(server, "GET", `/jobs/${sub.body.id}`);
    expect(after.body.status).toBe("cancelled");
    expect(after.body.iteration).toBeGreaterThanOrEqual(running.iteration);
    expect((await call(server, "GET", `/jobs/${sub.body.id}/history`)).body.history.length).toBe(after.body.iteration);
    // it does not move any more, and a second cancel is refused (409, as the docs say), changing nothing
    await new Promise((r) => setTimeout(r, 400));
    expect((await call(server, "GET", `/jobs/${sub.body.id}`)).body.iteration).toBe(after.body.iteration);
    const again = await call(server, "DELETE", `/jobs/${sub.body.id}`);
    expect([again.status, again.body.error.message]).toEqual([409, `job ${sub.body.id} is already cancelled`]);
    expect((await call(server, "GET", `/jobs/${sub.body.id}`)).body.status).toBe("cancelled");
    // what it reached is served, marked partial: result, θ and the report
    const result = await call(server, "GET", `/jobs/${sub.body.id}/result`);
    expect(result.status).toBe(200);
    expect(result.body.result).toMatchObject({ status: "cancelled", partial: true, iterations: after.body.iteration });
    const theta = await call(server, "GET", `/jobs/${sub.body.id}/theta.npy`);
    expect([theta.status, theta.bytes.length]).toEqual([200, result.body.theta.bytes]);
    const report = await call(server, "GET", `/jobs/${sub.body.id}/report`);
    expect(report.status).toBe(200);
    expect(new TextDecoder().decode(report.bytes)).toMatch(
      /cancelled: cancelled after \d+ iterations; a partial result/,
    );
  });

  it("an Idempotency-Key returns the same job for the same body, and 409 for another body", async () => {
    const spec = jobSpec(dataset, 3, "idem");
    const headers = { "idempotency-key": "retrain-2026-11-24" };
    const a = await call(server, "POST", "/jobs", { json: spec, headers });
    const b = await call(server, "POST", "/jobs", { json: spec, headers });
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(b.body.id).toBe(a.body.id);
    expect(b.headers.get("idempotent-replayed")).toBe("true");
    const c = await call(server, "POST", "/jobs", { json: { ...spec, stop: { maxIterations: 4 } }, headers });
    expect(c.status).toBe(409);
    expect(c.body.error.code).toBe("conflict");
    const list = await call(server, "GET", "/jobs?limit=100");
    expect(list.body.jobs.filter((j: { id: string }) => j.id === a.body.id).length).toBe(1);
    await status(server, a.body.id, (j) => j.status === "succeeded");
  });

  it("lists jobs newest first, a page at a time", async () => {
    const page1 = await call(server, "GET", "/jobs?limit=2");
    expect(page1.body.jobs.length).toBe(2);
    expect(page1.body.jobs[0].createdAt >= page1.body.jobs[1].createdAt).toBe(true);
    const page2 = await call(server, "GET", `/jobs?limit=2&cursor=${page1.body.nextCursor}`);
    expect(page2.body.jobs[0].id).not.toBe(page1.body.jobs[1].id);
    expect((await call(server, "GET", "/jobs?limit=0")).status).toBe(400);
  });
});

describe("schedules", () => {
  it("a rate of 1 second fires at least twice, each firing a job, and stops when deleted", async () => {
    const made = await call(server, "POST", "/schedules", {
      json: { name: "every-second", expression: "rate(1 second)", template: jobSpec(dataset, 2, "scheduled") },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const fired = await until(
      "two firings",
      async () => {
        const s = (await call(server, "GET", "/schedules")).body.schedules.find(
          (x: { id: string }) => x.id === made.body.id,
        );
        return s.firings >= 2 ? s : undefined;
      },
      15_000,
    );
    expect(fired.nextRunAt).not.toBeNull();
    const jobs = (await call(server, "GET", "/jobs?limit=100")).body.jobs.filter(
      (j: { name: string }) => j.name === "scheduled",
    );
    expect(jobs.length).toBeGreaterThanOrEqual(2);
    expect((await call(server, "DELETE", `/schedules/${made.body.id}`)).status).toBe(204);
    const count = (await call(server, "GET", "/jobs?limit=100")).body.jobs.filter(
      (j: { name: string }) => j.name === "scheduled",
    ).length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(
      (await call(server, "GET", "/jobs?limit=100")).body.jobs.filter((j: { name: string }) => j.name === "scheduled")
        .length,
    ).toBe(count);
    expect((await call(server, "DELETE", `/schedules/${made.body.id}`)).status).toBe(404);
  });

  it("refuses a bad expression with the field named", async () => {
    for (const expression of ["rate(0 minutes)", "cron(0 12 * * * *)", "every day", "cron(0 12 L * ? *)"]) {
      const r = await call(server, "POST", "/schedules", {
        json: { name: "bad", expression, template: jobSpec(dataset, 2) },
      });
      expect(r.status).toBe(400);
      expect(r.body.error.details[0].path).toBe("expression");
    }
  });
});

describe("authentication, limits and errors", () => {
  it("401 without a token or with a wrong one; 403 for a read-only token on a change", async () => {
    for (const token of [null, "wrong-token-wrong-token"]) {
      const r = await call(server, "GET", "/jobs", { token });
      expect(r.status).toBe(401);
      expect(r.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(Object.keys(r.body.error)).toEqual(["code", "message", "details"]);
    }
    expect((await call(server, "GET", "/jobs", { token: READ })).status).toBe(200);
    const w = await call(server, "POST", "/jobs", { token: READ, json: jobSpec(dataset, 2) });
    expect(w.status).toBe(403);
    expect(w.body.error.code).toBe("forbidden");
  });

  it("400 names every bad field; 413 over the limit; 415 for another media type; 404 and 405", async () => {
    const bad = await call(server, "POST", "/jobs", {
      json: {
        name: "x y",
        problem: {
          type: "classification",
          data: { source: "dataset", id: dataset },
          model: { type: "mlp", hidden: [-1] },
        },
        optimizer: { method: "modified-enkf", ensembleSize: 0 },
      },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual([
      "name",
      "optimizer.ensembleSize",
      "problem.model.hidden[0]",
    ]);
    const malformed = await call(server, "POST", "/jobs", { body: '{"name": ', type: "application/json" });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.message).toMatch(/malformed JSON/);
    const files = await call(server, "POST", "/jobs", {
      json: {
        ...jobSpec(dataset, 2),
        problem: { ...jobSpec(dataset, 2).problem, data: { source: "csv", path: "/etc/passwd", label: "y" } },
      },
    });
    expect(files.status).toBe(400);
    expect(files.body.error.details[0].path).toBe("problem.data.source");
    const big = await call(server, "POST", "/jobs", {
      body: JSON.stringify({ name: "x", pad: "x".repeat(70_000) }),
      type: "application/json",
    });
    expect(big.status).toBe(413);
    expect(
      (await call(server, "POST", "/jobs", { body: "name=x", type: "application/x-www-form-urlencoded" })).status,
    ).toBe(415);
    // a dataset upload without a media type is told both forms the route takes
    const bare = await call(server, "POST", "/datasets?name=d&label=y", {
      body: new TextEncoder().encode("a,y\n1,0\n"),
    });
    expect(bare.status).toBe(415);
    expect(bare.body.error.message).toMatch(/text\/csv.*application\/json/);
    expect((await call(server, "GET", "/nothing/here")).status).toBe(404);
    expect((await call(server, "GET", "/jobs/jdoesnotexist")).status).toBe(404);
    const put = await call(server, "PUT", "/jobs");
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("POST, GET");
    const missing = await call(server, "POST", "/jobs", { json: jobSpec("dnosuchdataset", 2) });
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toMatch(/no dataset "dnosuchdataset"/);
  });

  it("fuzz: 600 random and mutated requests get no 5xx and no stack trace, and the server still answers", async () => {
    const valid = jobSpec(dataset, 1, "fuzz");
    const segment = fc.oneof(
      fc.constantFrom(
        "jobs",
        "datasets",
        "schedules",
        "openapi.json",
        "history",
        "result",
        "theta.npy",
        "..",
        "%2e%2e",
        "%00",
        "%E0%A4%A",
        "j" + "x".repeat(70),
      ),
      fc.string({ maxLength: 12 }).map(encodeURIComponent),
    );
    const path = fc.array(segment, { minLength: 0, maxLength: 4 }).map((s) => "/" + s.join("/"));
    const mutate = (v: unknown, keys: readonly string[], value: unknown): unknown => {
      if (keys.length === 0 || typeof v !== "object" || v === null) return value;
      const [k, ...rest] = keys;
      return { ...(v as object), [k]: mutate((v as Record<string, unknown>)[k], rest, value) };
    };
    const body = fc.oneof(
      fc.json().map((j) => ({ text: j, type: "application/json" })),
      fc.string().map((t) => ({
        text: t,
        type: fc.sample(fc.constantFrom("application/json", "text/csv", "text/plain", ""), 1)[0],
      })),
      fc
        .tuple(
          fc.constantFrom(
            ["name"],
            ["problem", "type"],
            ["problem", "data", "source"],
            ["problem", "data", "id"],
            ["optimizer", "ensembleSize"],
            ["stop", "maxIterations"],
            ["compute", "shards"],
            ["problem", "model", "hidden"],
          ),
          fc.jsonValue(),
        )
        .map(([keys, value]) => ({ text: JSON.stringify(mutate(valid, keys, value)), type: "application/json" })),
    );
    const request = fc.record({
      method: fc.constantFrom("GET", "POST", "DELETE", "PUT", "PATCH"),
      path,
      body,
      query: fc.constantFrom(
        "",
        "?limit=-1",
        "?limit=abc",
        "?cursor=%FF",
        "?cursor=zzz",
        "?name=a&label=y",
        "?limit=1e400",
      ),
    });
    let calls = 0;
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        calls++;
        const res = await fetch(server.url + r.path + r.query, {
          method: r.method,
          headers: { authorization: `Bearer ${TOKEN}`, ...(r.body.type ? { "content-type": r.body.type } : {}) },
          body: r.method === "GET" ? undefined : r.body.text,
        });
        const text = await res.text();
        expect(res.status, `${r.method} ${r.path}${r.query} → ${text.slice(0, 300)}`).toBeLessThan(500);
        expect(text).not.toMatch(/\n\s+at .*\(/);
        if (res.status >= 400) expect(Object.keys(JSON.parse(text).error)).toEqual(["code", "message", "details"]);
      }),
      { numRuns: 600, seed: 20261124 },
    );
    expect(calls).toBe(600);
    expect((await call(server, "GET", "/jobs?limit=1")).status).toBe(200);
  });
});

describe("the OpenAPI document", () => {
  it("validates as OpenAPI 3.1, and its paths are exactly the routes", async () => {
    const r = await call(server, "GET", "/openapi.json", { token: null });
    expect(r.status).toBe(200);
    const v = await new Validator().validate(r.body);
    expect(v.errors ?? [], JSON.stringify(v.errors ?? []).slice(0, 2000)).toEqual([]);
    expect(v.valid).toBe(true);
    const documented = Object.entries(r.body.paths as Record<string, Record<string, unknown>>)
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    expect(documented).toEqual(server.api.router.routes.map((x) => `${x.method} ${x.path}`).sort());
    // the job body's schema is the job spec's
    expect(JSON.stringify(r.body.paths["/jobs"].post.requestBody.content["application/json"].schema)).toContain(
      "ensembleSize",
    );
  });
});

describe("a server restart", () => {
  it("resumes a running job from its last completed round, with the θ of an uninterrupted run", async () => {
    const home = mkdtempSync(join(tmpdir(), "api-restart-"));
    const opts = { location: home, port: 0, token: TOKEN, workers: 1 };
    let s = await startLocalServer(opts);
    const up = await call(s, "POST", "/datasets?name=signs&label=y", { body: csv(300), type: "text/csv" });
    const spec = jobSpec(up.body.id, 40, "restarted");
    const a = await call(s, "POST", "/jobs", { json: spec });
    const b = await call(s, "POST", "/jobs", { json: { ...spec, name: "uninterrupted" } });
    await status(s, a.body.id, (j) => j.iteration >= 5);
    await s.close();
    const stoppedAt =
      readFileSync(join(home, "jobs", a.body.id, "job.json")) &&
      (await import("node:fs")).readdirSync(join(home, "jobs", a.body.id, "state")).length;
    expect(stoppedAt).toBeGreaterThan(0);
    s = await startLocalServer(opts);
    try {
      for (const id of [a.body.id, b.body.id]) await status(s, id, (j) => j.status === "succeeded");
      const [ta, tb] = [a, b].map((x) => readFileSync(join(home, "jobs", x.body.id, "theta.npy")));
      expect(ta.equals(tb)).toBe(true);
    } finally {
      await s.close();
    }
  });
});
