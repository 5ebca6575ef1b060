// Dataset versions (issue 15, second part): POST /datasets/{name}/versions adds immutable versions
// whose columns must match version 1's; a job names { source: dataset, name, version: latest | n },
// and "latest" resolves when the job is created or a schedule fires, the job's spec recording the
// version; bad references are 400s naming the field, with nothing created.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalServer, type LocalServer } from "../../local/server.ts";
import { until } from "../support/wait.ts";

const TOKEN = "versions-test-token-0123456789";
const tmp = mkdtempSync(join(tmpdir(), "enkf-versions-"));
let server: LocalServer;

function csv(rows: number, seed: number, header = "a,b,y"): string {
  let s = seed >>> 0;
  const r = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5;
  const lines = [header];
  for (let i = 0; i < rows; i++) {
    const a = r(),
      b = r();
    lines.push(`${a.toFixed(4)},${b.toFixed(4)},${a + b > 0 ? "up" : "down"}`);
  }
  return lines.join("\n") + "\n";
}

async function call(
  method: string,
  path: string,
  body?: { json?: unknown; csv?: string },
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` };
  let payload: string | undefined;
  if (body?.json !== undefined) {
    payload = JSON.stringify(body.json);
    headers["content-type"] = "application/json";
  }
  if (body?.csv !== undefined) {
    payload = body.csv;
    headers["content-type"] = "text/csv";
  }
  const res = await fetch(server.url + path, { method, headers, body: payload });
  return { status: res.status, body: await res.json().catch(() => null) };
}

const job = (name: string, data: Record<string, unknown>) => ({
  name,
  problem: { type: "classification", data: { source: "dataset", ...data }, model: { type: "mlp", hidden: [4] } },
  optimizer: { ensembleSize: 6 },
  stop: { maxIterations: 3 },
});
const specOf = (id: string) =>
  JSON.parse(readFileSync(join(tmp, "jobs", id, "spec.json"), "utf8")) as {
    problem: { data: { name: string; version: number; id: string } };
  };

beforeAll(async () => {
  server = await startLocalServer({ location: tmp, port: 0, token: TOKEN, concurrency: 2, workers: 1 });
});
afterAll(async () => {
  await server?.close();
});

describe("named datasets with versions", () => {
  it("resolve latest when a job is created or a schedule fires, and refuse other columns", async () => {
    const v1 = await call("POST", "/datasets/signs/versions?label=y", { csv: csv(120, 1) });
    expect(v1.status, JSON.stringify(v1.body)).toBe(201);
    expect(v1.body).toMatchObject({ name: "signs", version: 1, dataset: { status: "ready" } });
    const first = await call("POST", "/jobs", { json: job("on-latest", { name: "signs" }) });
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    expect(specOf(first.body.id).problem.data).toMatchObject({ name: "signs", version: 1, id: v1.body.dataset.id });

    const v2 = await call("POST", "/datasets/signs/versions?label=y", { csv: csv(150, 2) });
    expect(v2.body.version).toBe(2);
    const second = await call("POST", "/jobs", { json: job("on-latest", { name: "signs", version: "latest" }) });
    expect(specOf(second.body.id).problem.data).toMatchObject({ version: 2, id: v2.body.dataset.id });
    const pinned = await call("POST", "/jobs", { json: job("pinned", { name: "signs", version: 1 }) });
    expect(specOf(pinned.body.id).problem.data).toMatchObject({ version: 1, id: v1.body.dataset.id });

    // a schedule's firings resolve latest when they fire: version 3 arrives after the schedule was made
    const sched = await call("POST", "/schedules", {
      json: { name: "nightly", expression: "rate(1 second)", template: job("fired", { name: "signs" }) },
    });
    expect(sched.status, JSON.stringify(sched.body)).toBe(201);
    const v3 = await call("POST", "/datasets/signs/versions?label=y", { csv: csv(90, 3) });
    expect(v3.body.version).toBe(3);
    const fired = await until(
      "a firing on version 3",
      async () => {
        const jobs = (await call("GET", "/jobs?limit=100")).body.jobs.filter(
          (j: { name: string }) => j.name === "fired",
        );
        return jobs.find((j: { id: string }) => specOf(j.id).problem.data.version === 3);
      },
      20_000,
    );
    expect(specOf(fired.id).problem.data.id).toBe(v3.body.dataset.id);
    expect((await call("DELETE", `/schedules/${sched.body.id}`)).status).toBe(204);

    // other columns are refused, naming them; the version list is unchanged
    const other = await call("POST", "/datasets/signs/versions?label=y", { csv: csv(50, 4, "a,c,y") });
    expect(other.status).toBe(400);
    expect(other.body.error.message).toMatch(/do not match version 1 .*missing "b"; new "c"/);
    const list = await call("GET", "/datasets/signs/versions");
    expect(list.body.versions.map((v: { version: number }) => v.version)).toEqual([1, 2, 3]);
  }, 60_000);

  it("a job naming an unknown dataset or version is a 400 naming the field, and creates no job", async () => {
    const before = (await call("GET", "/jobs?limit=100")).body.jobs.length;
    const unknown = await call("POST", "/jobs", { json: job("x", { name: "nope" }) });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details[0].path).toBe("problem.data.name");
    const version = await call("POST", "/jobs", { json: job("x", { name: "signs", version: 9 }) });
    expect(version.status).toBe(400);
    expect(version.body.error.message).toMatch(/has versions 1 to 3; there is no version 9/);
    const both = await call("POST", "/jobs", { json: job("x", { name: "signs", id: "d123" }) });
    expect(both.status).toBe(400);
    expect((await call("GET", "/jobs?limit=100")).body.jobs.length).toBe(before);
    expect((await call("GET", "/datasets/nope/versions")).status).toBe(404);
  });
});
