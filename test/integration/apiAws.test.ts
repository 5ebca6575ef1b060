// The API's AWS side against real components on loopback: the Lambda adapter (API Gateway HTTP
// API events) in front of the service over an S3 store on s3rver, with presigned upload and
// download URLs fetched over HTTP; and the state machine's Launch state, which turns a schedule's
// firing into a job (and a retried firing into a duplicate), run on the local engine.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApi, type Api } from "../../shared/api/app.ts";
import { LocalRunner } from "../../local/runner.ts";
import { toRequest, toResult } from "../../functions/api.ts";
import { runLocalWorkflow } from "../../local/engine.ts";
import { encodeShards } from "../../shared/data/shards.ts";
import { csvDataset } from "../../shared/data/csv.ts";
import { getJson } from "../../shared/store/blobStore.ts";
import { decodeNpyFloat64 } from "../../shared/formats/npy.ts";
import { startS3Server, type S3Server } from "../support/s3server.ts";
import { randomClassification } from "../support/synthetic.ts";

let server: S3Server;
let api: Api;
let runner: LocalRunner;
beforeAll(async () => {
  server = await startS3Server();
  process.env.AWS_ACCESS_KEY_ID = server.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = server.credentials.secretAccessKey;
  runner = new LocalRunner({ workers: 1 });
  api = createApi({
    location: `s3://${server.bucket}/service`,
    endpoint: server.endpoint,
    engine: runner,
    scheduler: { allowSeconds: false, arm: async () => undefined, disarm: async () => undefined },
    authenticate: () => undefined,
    auth: "sigv4",
    onError: (id, e) => console.error(id, e),
  });
});
afterAll(async () => {
  await runner?.close();
  await server?.stop();
});

/** One request through the Lambda adapter, as API Gateway (payload 2.0) would deliver it. */
async function lambda(method: string, path: string, body?: unknown, query = "") {
  const event = {
    rawPath: path,
    rawQueryString: query,
    requestContext: { http: { method } },
    headers: (body === undefined ? {} : { "Content-Type": "application/json" }) as Record<string, string>,
    ...(body === undefined
      ? {}
      : { body: Buffer.from(JSON.stringify(body)).toString("base64"), isBase64Encoded: true }),
  };
  const r = toResult(await api.router.handle(toRequest(event)));
  return {
    status: r.statusCode,
    body: JSON.parse(r.isBase64Encoded ? Buffer.from(r.body, "base64").toString() : r.body),
  };
}

const spec = (dataset: string) => ({
  name: "s3-job",
  problem: {
    type: "classification",
    data: { source: "dataset", id: dataset },
    model: { type: "mlp", hidden: [5] },
    seed: 4,
  },
  optimizer: { method: "modified-enkf", ensembleSize: 6, batchSize: 60, seed: 5 },
  stop: { maxIterations: 6 },
  compute: { shards: 2, backend: "reference" },
});

describe("the API on an S3 store, through the Lambda adapter", () => {
  let dataset = "";

  it("registers a dataset whose sharded files are uploaded through presigned URLs, checked by sha256", async () => {
    const encoded = encodeShards(randomClassification(150, 4, 3, 30, 11, 0), 1);
    const files = [
      ...encoded.files,
      { path: "manifest.json", bytes: new TextEncoder().encode(JSON.stringify(encoded.manifest)) },
    ];
    const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
    const reg = await lambda("POST", "/datasets", {
      name: "blobs",
      kind: "classification",
      files: files.map((f) => ({ path: f.path, sha256: sha(f.bytes) })),
    });
    expect(reg.status).toBe(201);
    expect(reg.body.dataset.status).toBe("pending");
    dataset = reg.body.dataset.id;
    // a job on a dataset still uploading is refused
    expect((await lambda("POST", "/jobs", spec(dataset))).status).toBe(400);
    for (const f of files) {
      const up = reg.body.uploads.find((u: { path: string }) => u.path === f.path);
      expect(up.url).toContain("X-Amz-Signature=");
      const res = await fetch(up.url, { method: "PUT", headers: up.headers, body: f.bytes });
      expect(res.status, await res.text()).toBe(200);
    }
    const ready = await lambda("GET", `/datasets/${dataset}`);
    expect(ready.body.status).toBe("ready");
    expect(ready.body.rows).toEqual({ train: 120, test: 30 });
  });

  it("runs a job and answers its result with a presigned θ URL that downloads θ", async () => {
    const sub = await lambda("POST", "/jobs", spec(dataset));
    expect(sub.status).toBe(202);
    await runner.idle();
    const job = await lambda("GET", `/jobs/${sub.body.id}`);
    expect(job.body.status).toBe("succeeded");
    const res = await lambda("GET", `/jobs/${sub.body.id}/result`);
    expect(res.body.theta.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/.*theta\.npy\?.*X-Amz-Signature=/);
    expect(res.body.theta.expiresInSeconds).toBe(900);
    const download = await fetch(res.body.theta.url);
    expect(download.status).toBe(200);
    const bytes = new Uint8Array(await download.arrayBuffer());
    expect(bytes.length).toBe(res.body.theta.bytes);
    const theta = decodeNpyFloat64(bytes);
    expect(theta.length).toBe(4 * 5 + 5 + 5 * 3 + 3);
    expect(Array.from(theta).every(Number.isFinite)).toBe(true);
  });
});

describe("named dataset versions uploaded through presigned URLs", () => {
  it(
    "checks the declared columns against version 1, skips a version for latest until its files " +
      "are uploaded, and uses it then",
    async () => {
      const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
      const version = (rows: number, seed: number, header = "a,b,y") => {
        const lines = [header];
        for (let i = 0; i < rows; i++) lines.push(`${(i * 0.37 + seed) % 1},${(i * 0.61) % 1},${i % 2 ? "p" : "q"}`);
        const encoded = encodeShards(
          csvDataset(lines.join("\n") + "\n", "v", {
            label: "y",
            kind: "classification",
            standardize: true,
            testFraction: 0.2,
            seed,
          }),
          1,
        );
        const files = [
          ...encoded.files,
          { path: "manifest.json", bytes: new TextEncoder().encode(JSON.stringify(encoded.manifest)) },
        ];
        return {
          files,
          body: {
            kind: "classification",
            columns: encoded.manifest.columns,
            files: files.map((f) => ({ path: f.path, sha256: sha(f.bytes) })),
          },
        };
      };
      const uploadAll = async (
        reg: { uploads: { path: string; url: string; headers: Record<string, string> }[] },
        files: { path: string; bytes: Uint8Array }[],
      ) => {
        for (const f of files) {
          const up = reg.uploads.find((u) => u.path === f.path)!;
          expect((await fetch(up.url, { method: "PUT", headers: up.headers, body: f.bytes })).status).toBe(200);
        }
      };
      const job = {
        ...spec("unused"),
        name: "presigned-job",
        problem: { ...spec("unused").problem, data: { source: "dataset", name: "presigned" } },
      };
      const specOf = async (id: string) =>
        (await getJson(api.service.jobs.jobStore(id), "spec.json")) as { problem: { data: { version: number } } };

      const v1 = version(100, 1);
      const r1 = await lambda("POST", "/datasets/presigned/versions", v1.body);
      expect(r1.status, JSON.stringify(r1.body)).toBe(201);
      expect(r1.body).toMatchObject({ name: "presigned", version: 1, dataset: { status: "pending" } });
      const early = await lambda("POST", "/jobs", job);
      expect(early.status).toBe(400);
      expect(early.body.error.message).toMatch(/no version whose files are all uploaded yet/);
      await uploadAll(r1.body, v1.files);
      const j1 = await lambda("POST", "/jobs", job);
      expect(j1.status, JSON.stringify(j1.body)).toBe(202);
      expect((await specOf(j1.body.id)).problem.data.version).toBe(1);

      const other = await lambda("POST", "/datasets/presigned/versions", version(80, 2, "a,c,y").body);
      expect(other.status).toBe(400);
      expect(other.body.error.details[0].path).toBe("columns");
      const v2 = version(120, 3);
      const r2 = await lambda("POST", "/datasets/presigned/versions", v2.body);
      expect(r2.body.version).toBe(2);
      // still uploading: latest is version 1
      expect((await specOf((await lambda("POST", "/jobs", job)).body.id)).problem.data.version).toBe(1);
      await uploadAll(r2.body, v2.files);
      expect((await specOf((await lambda("POST", "/jobs", job)).body.id)).problem.data.version).toBe(2);
      expect(
        (await lambda("GET", "/datasets/presigned/versions")).body.versions.map(
          (v: { version: number; dataset: { status: string } }) => [v.version, v.dataset.status],
        ),
      ).toEqual([
        [1, "ready"],
        [2, "ready"],
      ]);
    },
    60_000,
  );
});

describe("the Launch state (a schedule's firing on AWS)", () => {
  it("creates and runs the firing's job; a retried firing ends as a duplicate", async () => {
    const s = await api.service.schedules.create({
      name: "hourly",
      expression: "rate(1 hour)",
      template: spec((await api.service.datasets.list(1)).datasets[0].id) as never,
    });
    const launch = (event: unknown) => api.service.launch(event);
    const input = { launch: { schedule: s.id, at: "2026-11-24T23:00:00Z" } };
    const states: string[] = [];
    const first = await runLocalWorkflow({
      job: { store: "unused" },
      input,
      launch,
      onEvent: (e) => {
        if (e.type === "StateEntered" && e.state) states.push(e.state.name);
      },
    });
    expect(first.status).toBe("max_iterations");
    expect(states.slice(0, 4)).toEqual(["Start?", "Launch", "Launched?", "Init"]);
    const jobs = (await api.service.jobs.list(100)).jobs.filter((j) => j.name === "s3-job" && j.status === "succeeded");
    expect(jobs.length).toBe(2);
    states.length = 0;
    const again = await runLocalWorkflow({
      job: { store: "unused" },
      input,
      launch,
      onEvent: (e) => {
        if (e.type === "StateEntered" && e.state) states.push(e.state.name);
      },
    });
    expect(states).toEqual(["Start?", "Launch", "Launched?", "Duplicate firing"]);
    expect(again.status).toBe("unknown");
    expect((await api.service.jobs.list(100)).jobs.filter((j) => j.name === "s3-job").length).toBe(2);
    expect((await api.service.schedules.list())[0].firings).toBe(1);
  });
});
