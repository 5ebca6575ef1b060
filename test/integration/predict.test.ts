// Using a trained model (issue 14): the predictions of `enkf predict`, of the exported ONNX model
// in onnxruntime, and of POST /jobs/{id}/predict agree on the same raw rows; CSV columns are matched
// by name in any order; a missing column is an error that names it, on the command line and over
// HTTP. A regression model predicts in the targets' units, the same through ONNX.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalServer, type LocalServer } from "../../local/server.ts";
import { runCli } from "../support/cli.ts";
import { until } from "../support/wait.ts";

const TOKEN = "predict-test-token-0123456789";
const CLASSES = ["cat", "dog", "emu"];

/** Three features on very different scales (so the standardization matters), a string class. */
function rows(n: number, seed: number): { u: number; v: number; w: number; kind: string; t: number }[] {
  let s = seed >>> 0;
  const r = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  return Array.from({ length: n }, () => {
    const u = 100 * r(),
      v = 2 * r() - 1,
      w = 0.01 * r();
    const kind = CLASSES[u > 66 ? 2 : v > 0 ? 1 : 0];
    return { u: +u.toFixed(4), v: +v.toFixed(5), w: +w.toFixed(6), kind, t: +(0.05 * u + 3 * v).toFixed(5) };
  });
}
const toCsv = (cols: string[], rs: Record<string, unknown>[]) =>
  [cols.join(","), ...rs.map((r) => cols.map((c) => String(r[c])).join(","))].join("\n") + "\n";

const tmp = mkdtempSync(join(tmpdir(), "enkf-predict-"));
const unseen = rows(40, 99);
let server: LocalServer;
let jobId: string;

async function call(
  method: string,
  path: string,
  body?: { json?: unknown; csv?: string },
): Promise<{ status: number; body: any; bytes: Uint8Array }> {
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
  const bytes = new Uint8Array(await res.arrayBuffer());
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed, bytes };
}

/** `enkf predict` output (CSV) parsed into rows of strings. */
function parseCsvOut(text: string): string[][] {
  return text
    .trim()
    .split("\n")
    .map((l) => l.split(","));
}

async function onnxRun(bytes: Uint8Array, x: number[][]): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    return await session.run({ x: new ort.Tensor("float32", Float32Array.from(x.flat()), [x.length, x[0].length]) });
  } finally {
    await session.release();
  }
}

beforeAll(async () => {
  server = await startLocalServer({
    location: join(tmp, "service"),
    port: 0,
    token: TOKEN,
    concurrency: 1,
    workers: 1,
    jsonLimit: 1 << 20,
  });
  const up = await fetch(`${server.url}/datasets?name=animals&label=kind`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "text/csv" },
    body: toCsv(["u", "v", "w", "kind"], rows(400, 7)),
  });
  expect(up.status).toBe(201);
  const dataset = ((await up.json()) as { id: string }).id;
  const sub = await call("POST", "/jobs", {
    json: {
      name: "animals",
      problem: {
        type: "classification",
        data: { source: "dataset", id: dataset },
        model: { type: "mlp", hidden: [12] },
        seed: 1,
      },
      optimizer: { method: "modified-enkf", ensembleSize: 24, seed: 2 },
      stop: { maxIterations: 40, evaluateEvery: 5 },
      compute: { shards: 2 },
    },
  });
  expect(sub.status, JSON.stringify(sub.body)).toBe(202);
  jobId = sub.body.id;
  await until(
    `job ${jobId}`,
    async () => {
      const r = await call("GET", `/jobs/${jobId}`);
      if (r.body.status === "failed") throw new Error(JSON.stringify(r.body));
      return r.body.status === "succeeded" ? r.body : undefined;
    },
    180_000,
  );
}, 240_000);
afterAll(async () => {
  await server?.close();
});

describe("a trained model, applied", () => {
  it("enkf predict, the exported ONNX model and POST /jobs/{id}/predict agree on raw rows", async () => {
    // columns reordered, and the label column left in (it is ignored)
    const file = join(tmp, "unseen.csv");
    writeFileSync(file, toCsv(["w", "kind", "u", "v"], unseen));
    const cli = runCli(["predict", jobId, file, "--probabilities", "--data", join(tmp, "service")]);
    expect(cli.stderr).toBe("");
    expect(cli.code).toBe(0);
    const table = parseCsvOut(cli.stdout);
    expect(table[0]).toEqual(["label", ...CLASSES.map((c) => `p_${c}`)]);
    const labels = table.slice(1).map((r) => r[0]);
    const probs = table.slice(1).map((r) => r.slice(1).map(Number));
    expect(labels).toHaveLength(unseen.length);
    // a model worth applying: most unseen rows right, in the class names
    expect(labels.filter((l, i) => l === unseen[i].kind).length).toBeGreaterThan(0.8 * unseen.length);

    // the exported model on the same raw rows (model.json's feature order: u, v, w)
    const exported = runCli(["export", jobId, "--out", join(tmp, "model.onnx"), "--data", join(tmp, "service")]);
    expect(exported.code, exported.stderr).toBe(0);
    const bytes = new Uint8Array(readFileSync(join(tmp, "model.onnx")));
    const out = await onnxRun(
      bytes,
      unseen.map((r) => [r.u, r.v, r.w]),
    );
    const onnxLabels = Array.from(out.label.data as BigInt64Array, (k) => CLASSES[Number(k)]);
    expect(onnxLabels).toEqual(labels);
    const onnxProbs = out.probabilities.data as Float32Array;
    probs.forEach((p, i) => p.forEach((v, k) => expect(Math.abs(onnxProbs[i * 3 + k] - v)).toBeLessThan(1e-4)));
    // the same file over HTTP
    const served = await call("GET", `/jobs/${jobId}/model.onnx`);
    expect(served.status).toBe(200);
    expect(Buffer.from(served.bytes).equals(Buffer.from(bytes))).toBe(true);

    // POST predict: JSON rows (keys in any order) and the CSV itself
    const viaJson = await call("POST", `/jobs/${jobId}/predict`, {
      json: { rows: unseen.map((r) => ({ v: r.v, w: r.w, u: r.u })), probabilities: true },
    });
    expect(viaJson.status, JSON.stringify(viaJson.body)).toBe(200);
    expect(viaJson.body.predictions.map((p: { label: string }) => p.label)).toEqual(labels);
    viaJson.body.predictions.forEach((p: { probabilities: Record<string, number> }, i: number) =>
      CLASSES.forEach((c, k) => expect(p.probabilities[c]).toBeCloseTo(probs[i][k], 12)),
    );
    const viaCsv = await call("POST", `/jobs/${jobId}/predict`, { csv: readFileSync(file, "utf8") });
    expect(viaCsv.status).toBe(200);
    expect(viaCsv.body.predictions.map((p: { label: string }) => p.label)).toEqual(labels);
  }, 120_000);

  it("the served job kept its best θ by the validation split: theta.npy is it, result.json says which", async () => {
    const res = await call("GET", `/jobs/${jobId}/result`);
    expect(res.status).toBe(200);
    const { best, metrics, history } = res.body.result;
    expect(best.iteration).toBeGreaterThan(0);
    expect(metrics).toEqual(best.metrics);
    const evals = history.filter((h: { evaluation?: object }) => h.evaluation);
    const min = Math.min(...evals.map((h: { evaluation: { validationLoss: number } }) => h.evaluation.validationLoss));
    expect(best.metrics.validationLoss).toBeLessThanOrEqual(min);
    const card = JSON.parse(readFileSync(join(tmp, "service", "jobs", jobId, "model.json"), "utf8"));
    expect(card.iteration).toBe(best.iteration);
    expect(card.features).toEqual(["u", "v", "w"]);
    expect(card.outputs).toEqual(CLASSES);
  });

  it("names a missing or an extra column, on the command line and over HTTP", async () => {
    const file = join(tmp, "missing.csv");
    writeFileSync(file, toCsv(["u", "w"], unseen));
    const cli = runCli(["predict", jobId, file, "--data", join(tmp, "service")]);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/missing column "v"/);
    const extra = join(tmp, "extra.csv");
    writeFileSync(
      extra,
      toCsv(
        ["u", "v", "w", "colour"],
        unseen.map((r) => ({ ...r, colour: 1 })),
      ),
    );
    expect(runCli(["predict", jobId, extra, "--data", join(tmp, "service")]).stderr).toMatch(
      /unexpected column "colour"/,
    );
    const http = await call("POST", `/jobs/${jobId}/predict`, { csv: readFileSync(file, "utf8") });
    expect(http.status).toBe(400);
    expect(http.body.error.message).toMatch(/missing column "v"/);
    const bad = await call("POST", `/jobs/${jobId}/predict`, {
      json: {
        rows: [
          { u: 1, v: 0, w: 0 },
          { u: 2, v: "x", w: 0 },
        ],
      },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/row 2, column "v"/);
  });

  it("a regression model predicts in the targets' units, the same through ONNX", async () => {
    writeFileSync(join(tmp, "reg.csv"), toCsv(["u", "v", "w", "t"], rows(300, 5)));
    writeFileSync(
      join(tmp, "reg.json"),
      JSON.stringify({
        name: "reg",
        problem: {
          type: "regression",
          data: { source: "csv", path: "reg.csv", label: "t" },
          model: { type: "mlp", hidden: [8] },
        },
        optimizer: { method: "modified-enkf", ensembleSize: 24 },
        stop: { maxIterations: 60 },
      }),
    );
    const run = runCli(["run", join(tmp, "reg.json"), "--out", join(tmp, "reg-run"), "--quiet"]);
    expect(run.code, run.stderr).toBe(0);
    const file = join(tmp, "reg-rows.csv");
    writeFileSync(file, toCsv(["v", "u", "w"], unseen));
    const cli = runCli(["predict", join(tmp, "reg-run"), file]);
    expect(cli.code, cli.stderr).toBe(0);
    const table = parseCsvOut(cli.stdout);
    expect(table[0]).toEqual(["t"]);
    const predicted = table.slice(1).map((r) => Number(r[0]));
    // the original units: close to t = 0.05u + 3v (range about −3 … 8), not standardized values
    const err = predicted.reduce((s, p, i) => s + Math.abs(p - unseen[i].t), 0) / unseen.length;
    expect(err).toBeLessThan(0.5);
    expect(runCli(["export", join(tmp, "reg-run"), "--quiet"]).code).toBe(0);
    const out = await onnxRun(
      new Uint8Array(readFileSync(join(tmp, "reg-run", "model.onnx"))),
      unseen.map((r) => [r.u, r.v, r.w]),
    );
    const y = out.output.data as Float32Array;
    predicted.forEach((p, i) => expect(Math.abs(y[i] - p)).toBeLessThan(1e-4 * Math.max(1, Math.abs(p))));
  }, 120_000);
});
