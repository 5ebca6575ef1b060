// Warm starts (issue 15, first part): θ₀ from a finished run (enkf run --init-from) or job
// (problem.initial.fromJob over HTTP) whose network is this job's; a warm-started job reaches the
// cold-started job's best validation loss in fewer iterations; a mismatched network or an unknown
// job is refused, naming the field and what differs, with nothing started.
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalServer, type LocalServer } from "../../local/server.ts";
import { decodeNpyFloat64 } from "../../shared/formats/npy.ts";
import { runCli } from "../support/cli.ts";
import { until } from "../support/wait.ts";

const TOKEN = "warm-test-token-0123456789";
const tmp = mkdtempSync(join(tmpdir(), "enkf-warm-"));

/** 400 rows, 4 features, three classes from two noisy linear scores. */
function csv(): string {
  let s = 12345;
  const r = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5;
  const lines = ["a,b,c,d,y"];
  for (let i = 0; i < 400; i++) {
    const x = [r(), r(), r(), r()];
    const u = x[0] + 0.5 * x[1] + 0.2 * r(),
      v = x[2] - x[3] + 0.2 * r();
    lines.push(`${x.map((t) => t.toFixed(4)).join(",")},${u > 0.1 ? "p" : v > 0 ? "q" : "r"}`);
  }
  return lines.join("\n") + "\n";
}

const job = (hidden: number[], extra: Record<string, unknown> = {}) => ({
  name: "warm",
  problem: {
    type: "classification",
    data: { source: "csv", path: "data.csv", label: "y" },
    model: { type: "mlp", hidden },
    ...extra,
  },
  optimizer: { method: "modified-enkf", ensembleSize: 30, seed: 3 },
  stop: { maxIterations: 80, evaluateEvery: 5, earlyStopping: false },
});

type History = { iteration: number; evaluation?: { validationLoss: number } }[];
const firstReaching = (h: History, loss: number) =>
  h.find((r) => r.evaluation && r.evaluation.validationLoss <= loss)?.iteration;
const result = (dir: string) =>
  JSON.parse(readFileSync(join(dir, "result.json"), "utf8")) as {
    best: { iteration: number; metrics: { validationLoss: number } };
    history: History;
    spec: { problem: Record<string, unknown> };
  };

describe("warm starts with enkf run --init-from", () => {
  it("start from the run's θ, reach the cold run's best validation loss sooner, and refuse another network", () => {
    writeFileSync(join(tmp, "data.csv"), csv());
    writeFileSync(join(tmp, "cold.json"), JSON.stringify(job([16])));
    const cold = runCli(["run", "cold.json", "--out", "cold", "--quiet"], { cwd: tmp });
    expect(cold.code, cold.stderr).toBe(0);
    const c = result(join(tmp, "cold"));
    const warm = runCli(["run", "cold.json", "--out", "warm", "--quiet", "--init-from", "cold"], { cwd: tmp });
    expect(warm.code, warm.stderr).toBe(0);
    const w = result(join(tmp, "warm"));
    const coldAt = firstReaching(c.history, c.best.metrics.validationLoss)!;
    const warmAt = firstReaching(w.history, c.best.metrics.validationLoss);
    expect(coldAt).toBe(c.best.iteration);
    expect(warmAt).toBeDefined();
    expect(warmAt!).toBeLessThan(coldAt);
    console.log(
      `warm start: the cold run's best validation loss ` +
        `${c.best.metrics.validationLoss.toExponential(4)} at iteration ${coldAt} cold, ${warmAt} ` +
        `warm`,
    );
    // through the state machine too: the same θ₀ gives the in-process θ (one shard)
    const wf = runCli(["run", "cold.json", "--store", "warm-wf", "--quiet", "--init-from", "cold"], { cwd: tmp });
    expect(wf.code, wf.stderr).toBe(0);
    expect(result(join(tmp, "warm-wf")).best.iteration).toBe(w.best.iteration);
    // another network is refused, saying what differs, and nothing is written
    writeFileSync(join(tmp, "other.json"), JSON.stringify(job([8])));
    const bad = runCli(["run", "other.json", "--out", "never", "--init-from", "cold"], { cwd: tmp });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /cannot warm-start from .*cold: its network differs from this job's \(model\.hidden: \[8\] here, \[16\] there\)/,
    );
    expect(() => readFileSync(join(tmp, "never", "result.json"))).toThrow();
  }, 240_000);
});

describe("warm starts over HTTP (problem.initial.fromJob)", () => {
  let server: LocalServer;
  let dataset: string;
  const call = async (method: string, path: string, json?: unknown) => {
    const res = await fetch(server.url + path, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(json !== undefined ? { "content-type": "application/json" } : {}),
      },
      body: json === undefined ? undefined : JSON.stringify(json),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const spec = (hidden: number[], extra: Record<string, unknown> = {}) => ({
    ...job(hidden, extra),
    problem: { ...job(hidden, extra).problem, data: { source: "dataset", id: dataset } },
  });
  const done = (id: string) =>
    until(
      `job ${id}`,
      async () => {
        const r = await call("GET", `/jobs/${id}`);
        if (r.body.status === "failed") throw new Error(JSON.stringify(r.body));
        return r.body.status === "succeeded" ? r.body : undefined;
      },
      180_000,
    );

  beforeAll(async () => {
    server = await startLocalServer({
      location: join(tmp, "service"),
      port: 0,
      token: TOKEN,
      concurrency: 1,
      workers: 1,
    });
    const up = await fetch(`${server.url}/datasets?name=warm&label=y`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "text/csv" },
      body: csv(),
    });
    dataset = ((await up.json()) as { id: string }).id;
  });
  afterAll(async () => {
    await server?.close();
  });

  it("starts from the job's θ, and refuses an unknown job or another network with a 400 naming the field", async () => {
    const cold = await call("POST", "/jobs", spec([16]));
    expect(cold.status).toBe(202);
    await done(cold.body.id);
    const warm = await call("POST", "/jobs", spec([16], { initial: { fromJob: cold.body.id } }));
    expect(warm.status, JSON.stringify(warm.body)).toBe(202);
    await done(warm.body.id);
    // θ₀ of the warm job is the cold job's theta.npy (the best θ)
    const jobs = join(tmp, "service", "jobs");
    const theta0 = new Float64Array(new Uint8Array(readFileSync(join(jobs, warm.body.id, "init.theta.f64"))).buffer);
    expect(Array.from(theta0)).toEqual(
      Array.from(decodeNpyFloat64(readFileSync(join(jobs, cold.body.id, "theta.npy")))),
    );
    const before = (await call("GET", "/jobs")).body.jobs.length;
    const other = await call("POST", "/jobs", spec([8], { initial: { fromJob: cold.body.id } }));
    expect(other.status).toBe(400);
    expect(other.body.error.message).toMatch(/model\.hidden: \[8\] here, \[16\] there/);
    expect(other.body.error.details[0].path).toBe("problem.initial.fromJob");
    const unknown = await call("POST", "/jobs", spec([16], { initial: { fromJob: "jnope" } }));
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toMatch(/problem\.initial\.fromJob: .*jnope.* not found/);
    expect((await call("GET", "/jobs")).body.jobs.length).toBe(before);

    // a model's champion: problem.initial.fromModel over HTTP, and in enkf run from runs/service
    const promoted = await call("POST", "/models/warm-model/promote", { job: cold.body.id });
    expect(promoted.status, JSON.stringify(promoted.body)).toBe(200);
    expect(promoted.body).toMatchObject({
      version: 1,
      job: cold.body.id,
      promoted: true,
      by: "POST /models/{name}/promote",
    });
    const fromModel = await call("POST", "/jobs", spec([16], { initial: { fromModel: "warm-model" } }));
    expect(fromModel.status, JSON.stringify(fromModel.body)).toBe(202);
    const theta1 = new Float64Array(
      new Uint8Array(readFileSync(join(jobs, fromModel.body.id, "init.theta.f64"))).buffer,
    );
    expect(Array.from(theta1)).toEqual(Array.from(theta0));
    await done(fromModel.body.id);
    const cwd = join(tmp, "cli");
    mkdirSync(join(cwd, "runs"), { recursive: true });
    symlinkSync(join(tmp, "service"), join(cwd, "runs", "service"));
    writeFileSync(join(cwd, "data.csv"), csv());
    const short = (extra: Record<string, unknown>) => ({
      ...job([16], extra),
      stop: { maxIterations: 10, evaluateEvery: 5, earlyStopping: false },
    });
    writeFileSync(join(cwd, "model.json"), JSON.stringify(short({ initial: { fromModel: "warm-model" } })));
    writeFileSync(join(cwd, "plain.json"), JSON.stringify(short({})));
    const a = runCli(["run", "model.json", "--out", "a", "--quiet"], { cwd });
    expect(a.code, a.stderr).toBe(0);
    const b = runCli(["run", "plain.json", "--out", "b", "--quiet", "--init-from", cold.body.id], { cwd });
    expect(b.code, b.stderr).toBe(0);
    const untimed = (h: History) => h.map((r) => ({ ...r, seconds: 0 }));
    expect(untimed(result(join(cwd, "a")).history)).toEqual(untimed(result(join(cwd, "b")).history));
    writeFileSync(join(cwd, "nomodel.json"), JSON.stringify(short({ initial: { fromModel: "nope" } })));
    const none = runCli(["run", "nomodel.json", "--out", "c", "--quiet"], { cwd });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/problem\.initial\.fromModel: no model named "nope"/);
  }, 240_000);
});
