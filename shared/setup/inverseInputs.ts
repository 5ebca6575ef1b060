// What an inverse problem reads before it is built, relative to the job file's directory: its
// observations and noise (numbers inline, or float32/float64 .npy of any shape, flattened), and
// an onnx forward's graph, opened with ONNX Runtime and probed once at the prior mean for its
// output length. Errors name the field.

import { readFile } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { decodeNpy } from "../formats/npy.ts";
import { InverseProblemError, type BatchForward, type Observations } from "../problems/inverse.ts";
import { loadOrt } from "../kernels/onnx.ts";
import type { InverseProblem } from "../spec/job.ts";

/** The bytes of a file the job names (relative to its directory); a failure names the field. */
async function inputFile(name: string, base: string, field: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(isAbsolute(name) ? name : join(base, name)));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InverseProblemError(field, `cannot read ${name}: ${code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
}

async function numbers(v: number | number[] | string, field: string, base: string): Promise<Float64Array> {
  if (typeof v === "number") return Float64Array.of(v);
  if (Array.isArray(v)) return Float64Array.from(v);
  const bytes = await inputFile(v, base, field);
  try {
    const a = decodeNpy(bytes, v);
    if (typeof a.data[0] === "bigint") throw new Error(`${v}: 64-bit integers; save the numbers as float64 or float32`);
    return Float64Array.from(a.data as ArrayLike<number>);
  } catch (e) {
    throw new InverseProblemError(field, (e as Error).message);
  }
}

export async function loadObservations(p: InverseProblem, base: string): Promise<Observations> {
  return {
    values: await numbers(p.observations.values, "problem.observations.values", base),
    std: await numbers(p.observations.noise.std, "problem.observations.noise.std", base),
  };
}

/** The forward that runs elsewhere or in batches (onnx, http), ready to run; undefined for the built-ins. */
export async function loadForward(p: InverseProblem, base: string): Promise<BatchForward | undefined> {
  if (p.forward.type === "http") return httpForward(p);
  if (p.forward.type === "onnx") return onnxForward(p, base);
  return undefined;
}

/**
 * The http forward: `batch` members per POST, each request with a timeout and `retries` more
 * attempts (network errors, 5xx, timeouts, malformed answers); a member answered null, or every
 * member of a request that keeps failing, comes back NaN: a failed member for the failure policy.
 * One request at the prior mean first checks the service is there and tells m.
 */
async function httpForward(p: InverseProblem): Promise<BatchForward> {
  const f = p.forward as Extract<InverseProblem["forward"], { type: "http" }>;
  const names = p.parameters.map((q) => q.name), n = names.length;
  let m = -1;
  /** one request's outputs (null per failed member), or the reason it failed */
  async function post(u: Float64Array, count: number): Promise<(number[] | null)[] | string> {
    const theta = Array.from({ length: count }, (_, i) => Array.from(u.subarray(i * n, (i + 1) * n)));
    try {
      const res = await fetch(f.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ parameters: names, theta }), signal: AbortSignal.timeout(f.timeoutMs) });
      const text = await res.text();
      if (!res.ok) return `HTTP ${res.status}`;
      const body = JSON.parse(text) as { outputs?: unknown };
      if (!Array.isArray(body.outputs) || body.outputs.length !== count) return `the answer has no outputs for ${count} members`;
      return body.outputs.map((o) => (Array.isArray(o) && o.every((v) => typeof v === "number") && (m < 0 || o.length === m) ? (o as number[]) : null));
    } catch (e) {
      const err = e as Error;
      return err.name === "TimeoutError" ? `no answer within ${f.timeoutMs} ms` : err.message;
    }
  }
  const probe = await post(Float64Array.from(p.parameters, (q) => q.prior.mean), 1);
  if (typeof probe === "string" || !probe[0]) throw new InverseProblemError("problem.forward.url", `${f.url} did not answer a forward at the prior mean: ${typeof probe === "string" ? probe : "its output was null"}`);
  m = probe[0].length;
  return {
    outputs: m,
    batch: f.batch,
    async run(u, count, out) {
      let answer: (number[] | null)[] | string = "";
      for (let attempt = 0; attempt <= f.retries; attempt++) {
        answer = await post(u, count);
        if (typeof answer !== "string") break;
      }
      for (let i = 0; i < count; i++) {
        const o = typeof answer === "string" ? null : answer[i];
        for (let r = 0; r < m; r++) out[i * m + r] = o ? o[r] : NaN;
      }
    },
  };
}

/** The onnx forward's graph as a BatchForward: input theta [B, n], output [B, m]. */
async function onnxForward(p: InverseProblem, base: string): Promise<BatchForward> {
  const f = p.forward as Extract<InverseProblem["forward"], { type: "onnx" }>;
  const field = "problem.forward.path";
  const bytes = await inputFile(f.path, base, field);
  const ort = await loadOrt("native");
  let session: Awaited<ReturnType<typeof ort.InferenceSession.create>>;
  try {
    session = await ort.InferenceSession.create(bytes);
  } catch (e) {
    throw new InverseProblemError(field, `${f.path} is not an ONNX model ONNX Runtime can load: ${(e as Error).message.split("\n")[0]}`);
  }
  if (session.inputNames.length !== 1 || session.inputNames[0] !== "theta") throw new InverseProblemError(field, `${f.path} has inputs ${JSON.stringify(session.inputNames)}; an onnx forward has one input, theta [B, n]`);
  if (session.outputNames.length < 1) throw new InverseProblemError(field, `${f.path} has no output`);
  const meta = session.inputMetadata[0] as { isTensor?: boolean; type?: string };
  const type = meta.type === "float64" ? "float64" : "float32";
  const n = p.parameters.length, output = session.outputNames[0];
  const call = async (u: Float64Array, count: number): Promise<Float64Array> => {
    const data = type === "float64" ? Float64Array.from(u.subarray(0, count * n)) : Float32Array.from(u.subarray(0, count * n));
    const r = await session.run({ theta: new ort.Tensor(type, data, [count, n]) });
    const t = r[output];
    if (t.dims.length !== 2 || t.dims[0] !== count) throw new InverseProblemError(field, `${f.path}'s output ${output} has shape [${t.dims.join(", ")}] for ${count} points; an onnx forward answers [B, m]`);
    return Float64Array.from(t.data as ArrayLike<number>);
  };
  // one run at the prior mean: the graph takes n parameters and says m
  const prior = Float64Array.from(p.parameters, (q) => q.prior.mean);
  let probe: Float64Array;
  try {
    probe = await call(prior, 1);
  } catch (e) {
    if (e instanceof InverseProblemError) throw e;
    throw new InverseProblemError(field, `${f.path} does not run on theta [1, ${n}] (the ${n} parameters): ${(e as Error).message.split("\n")[0]}`);
  }
  const m = probe.length;
  return {
    outputs: m,
    batch: f.batch,
    async run(u, count, out) {
      out.set((await call(u, count)).subarray(0, count * m));
    },
  };
}
