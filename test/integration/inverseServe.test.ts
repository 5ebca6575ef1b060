// Inverse jobs over HTTP (issue 16): enkf serve's server on loopback runs them through the state
// machine's member branch with the same code as enkf run. A Lorenz-96 job ends at the in-process
// parameters bit for bit; an http forward served by another process (with injected slow, failing
// and null members) completes with its failed members recorded; bad definitions answer 400 naming
// the field, before any job exists.
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalServer, type LocalServer } from "../../local/server.ts";
import { optimizeAll } from "../../shared/enkf/optimize.ts";
import { decodeNpy } from "../../shared/formats/npy.ts";
import { fileInputs, loadInverseProblem } from "../../shared/setup/inverseInputs.ts";
import { JobSpec } from "../../shared/spec/job.ts";

const token = "inverse-serve-token-0123456789";
const H = { authorization: `Bearer ${token}`, "content-type": "application/json" };
const lorenz = {
  name: "l96-served",
  problem: {
    type: "inverse",
    forward: { type: "lorenz96", variables: 40, dt: 0.01, spinup: 200, steps: 600 },
    observations: { values: [2.28, 18.9, 6.25, 0.87], noise: { std: [0.1, 1, 0.5, 0.5] } },
    parameters: [
      { name: "forcing", prior: { mean: 6, std: 2 }, bounds: [0, null] },
      { name: "coupling", prior: { mean: 1.3, std: 0.4 }, bounds: [0, null] },
    ],
  },
  optimizer: { method: "modified-enkf", ensembleSize: 6, sigma: 0.1, gamma: { relative: 0.01 }, seed: 8 },
  stop: { maxIterations: 5 },
  compute: { memberBlocks: 4 },
};

let server: LocalServer;
beforeAll(async () => {
  server = await startLocalServer({
    location: join(mkdtempSync(join(tmpdir(), "inverse-serve-")), "svc"),
    port: 0,
    token,
    workers: 2,
    forwardHosts: ["127.0.0.1"],
  });
});
afterAll(async () => {
  await server?.close();
});

const post = (body: unknown) => fetch(`${server.url}/jobs`, { method: "POST", headers: H, body: JSON.stringify(body) });
async function finished(id: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 600; i++) {
    const view = (await (await fetch(`${server.url}/jobs/${id}`, { headers: H })).json()) as Record<string, unknown>;
    if (view.status !== "queued" && view.status !== "running") return view;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${id} did not finish`);
}

/** The job submitted and run to the end by the server, and the same job run in process. */
async function servedAndLocal(body: object) {
  const res = await post(body);
  expect(res.status).toBe(202);
  const { id } = (await res.json()) as { id: string };
  const view = await finished(id);
  expect(view.status, JSON.stringify(view)).toBe("succeeded");
  const job = JobSpec.parse(body);
  if (job.problem.type !== "inverse") throw new Error("test job");
  const problem = await loadInverseProblem(job.problem, fileInputs("/"));
  return { id, view, local: await optimizeAll({ problem, optimizer: job.optimizer, stop: job.stop }) };
}

describe("inverse jobs over HTTP", () => {
  it("a Lorenz-96 job on 4 member blocks ends at the in-process parameters, bit for bit", async () => {
    const { id, view, local } = await servedAndLocal(lorenz);
    expect(view.parameters).toEqual(local.parameters);
    // the Laplace posterior's round went through the same fan-out: the same intervals, bit for bit
    expect(view.posterior).toEqual(local.posterior);
    expect(local.posterior && "parameters" in local.posterior).toBe(true);
    const result = (await (await fetch(`${server.url}/jobs/${id}/result`, { headers: H })).json()) as {
      result: { parameters: Record<string, number>; evaluations: number };
    };
    expect(result.result.parameters).toEqual(local.parameters);
    expect(result.result.evaluations).toBe(local.evaluations);
    // a job without a sampler has no samples: a clear 409, not a stack trace
    const none = await fetch(`${server.url}/jobs/${id}/samples.npy`, { headers: H });
    expect(none.status).toBe(409);
    expect(((await none.json()) as { error: { message: string } }).error.message).toMatch(/method "eks"/);
  });

  it("the sampler's job gives the in-process particles, summary and samples.npy, bit for bit", async () => {
    const sampler = { ...lorenz, name: "l96-sampled", optimizer: { method: "eks", ensembleSize: 8, seed: 3 } };
    const { id, view, local } = await servedAndLocal(sampler);
    expect(view.parameters).toEqual(local.parameters);
    expect(view.posterior).toEqual(local.posterior);
    const npy = await fetch(`${server.url}/jobs/${id}/samples.npy`, { headers: H });
    expect(npy.status).toBe(200);
    const samples = decodeNpy(new Uint8Array(await npy.arrayBuffer()));
    expect(samples.shape).toEqual([8, 2]);
    expect(Array.from(samples.data as Float64Array)).toEqual(Array.from(local.samples!.data));
  });

  it(
    "an http forward in another process, with slow, failing and null members, completes and " +
      "records its failed members",
    async () => {
      const A = [
          [1, 0.5],
          [0.2, 1],
          [1, -1],
        ],
        b = [0.1, 0, 0.3];
      const child = spawn(
        process.execPath,
        [join(import.meta.dirname, "..", "support", "simulatorServer.mjs"), JSON.stringify({ A, b, slowMs: 2000 })],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      try {
        const port = await new Promise<number>((resolve, reject) => {
          child.stdout!.on("data", (d: Buffer) => {
            const m = /listening (\d+)/.exec(d.toString());
            if (m) resolve(Number(m[1]));
          });
          child.once("exit", (code) => reject(new Error(`the simulator exited with ${code}`)));
        });
        const job = {
          name: "http-served",
          problem: {
            type: "inverse",
            forward: { type: "http", url: `http://127.0.0.1:${port}/forward`, batch: 3, timeoutMs: 300, retries: 3 },
            observations: { values: [1.2, 0.9, 0.1], noise: { std: 0.05 } },
            parameters: [
              { name: "a", prior: { mean: 0, std: 2 } },
              { name: "b", prior: { mean: 0, std: 2 } },
            ],
          },
          optimizer: { method: "modified-enkf", ensembleSize: 4, seed: 2, failedMembers: { tolerance: 0.5 } },
          stop: { maxIterations: 6 },
          // one block: the simulator's trouble follows its request count, which one client keeps in order
          compute: { memberBlocks: 1 },
        };
        const t0 = Date.now();
        const res = await post(job);
        expect(res.status).toBe(202);
        const view = await finished(((await res.json()) as { id: string }).id);
        expect(view.status, JSON.stringify(view)).toBe("succeeded");
        const { history: rows } = (await (
          await fetch(`${server.url}/jobs/${view.id}/history`, { headers: H })
        ).json()) as { history: { failedMembers?: number }[] };
        expect(rows.reduce((s, h) => s + (h.failedMembers ?? 0), 0)).toBeGreaterThan(0);
        expect(Object.keys(view.parameters as object)).toEqual(["a", "b"]);
        // the slow answers were abandoned at the timeout, not waited for
        expect((Date.now() - t0) / 1000).toBeLessThan(60);
      } finally {
        child.kill("SIGTERM");
      }
    },
    90_000,
  );

  it("bad definitions answer 400 naming the field, and create no job", async () => {
    const before = ((await (await fetch(`${server.url}/jobs`, { headers: H })).json()) as { jobs: unknown[] }).jobs
      .length;
    const p = lorenz.problem;
    const cases: [unknown, string][] = [
      [
        { ...lorenz, problem: { ...p, observations: { values: [1, 2, 3], noise: { std: 1 } } } },
        "problem.observations.values",
      ],
      [
        { ...lorenz, problem: { ...p, observations: { values: "y.npy", noise: { std: 1 } } } },
        "problem.observations.values",
      ],
      [
        {
          ...lorenz,
          problem: { ...p, parameters: [{ name: "forcing", prior: { mean: 6, std: 2 }, bounds: [10, 1] }] },
        },
        "problem.parameters[0].bounds",
      ],
      [
        {
          ...lorenz,
          problem: { ...p, forward: { type: "http", url: "http://127.0.0.1:9/forward", timeoutMs: 300, retries: 0 } },
        },
        "problem.forward.url",
      ],
      [
        {
          ...lorenz,
          problem: {
            ...p,
            forward: { type: "lambda", functionArn: "arn:aws:lambda:eu-west-1:123456789012:function:sim" },
          },
        },
        "problem.forward.functionArn",
      ],
      [{ ...lorenz, problem: { ...p, forward: { type: "onnx", path: "g.onnx" } } }, "problem.forward.path"],
      [{ ...lorenz, compute: { shards: 2 } }, "compute.shards"],
    ];
    for (const [body, field] of cases) {
      const res = await post(body);
      const text = await res.text();
      expect(res.status, text).toBe(400);
      const err = JSON.parse(text) as { error: { details: { path: string }[] } };
      expect(
        err.error.details.map((d) => d.path),
        text,
      ).toContain(field);
      expect(text).not.toMatch(/at .*\.ts:\d+/);
    }
    const after = ((await (await fetch(`${server.url}/jobs`, { headers: H })).json()) as { jobs: unknown[] }).jobs
      .length;
    expect(after).toBe(before);
  });
});
