// What an inverse problem reads before it is built: its observations and noise (numbers inline,
// or float32/float64 .npy of any shape, flattened), and an onnx forward's graph, opened with ONNX
// Runtime and probed once at the prior mean for its output length. The files come through an
// InputReader: relative to the job file's directory (fileInputs), or from a prepared job's store
// (the workflow). Errors name the field.

import { readFile } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { decodeNpy } from "../formats/npy.ts";
import {
  inverseProblem,
  InverseProblemError,
  type BatchForward,
  type InverseProblem as InverseProblemModel,
  type Observations,
} from "../problems/inverse.ts";
import { loadOrt } from "../kernels/onnx.ts";
import type { InverseProblem } from "../spec/job.ts";

/** The bytes of a file the job names; a failure is an InverseProblemError naming the field. */
export type InputReader = (name: string, field: string) => Promise<Uint8Array>;

/** Files relative to the job file's directory `base`. */
export function fileInputs(base: string): InputReader {
  return async (name, field) => {
    try {
      return new Uint8Array(await readFile(isAbsolute(name) ? name : join(base, name)));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new InverseProblemError(
        field,
        `cannot read ${name}: ${code === "ENOENT" ? "no such file" : (e as Error).message}`,
      );
    }
  };
}

/** The files an inverse problem names, by field: observations, noise and an onnx graph. */
export function inputFiles(p: InverseProblem): { field: string; name: string }[] {
  const named: { field: string; name: string }[] = [];
  if (typeof p.observations.values === "string")
    named.push({ field: "problem.observations.values", name: p.observations.values });
  if (typeof p.observations.noise.std === "string")
    named.push({ field: "problem.observations.noise.std", name: p.observations.noise.std });
  if (p.forward.type === "onnx") named.push({ field: "problem.forward.path", name: p.forward.path });
  return named;
}

async function numbers(v: number | number[] | string, field: string, read: InputReader): Promise<Float64Array> {
  if (typeof v === "number") return Float64Array.of(v);
  if (Array.isArray(v)) return Float64Array.from(v);
  const bytes = await read(v, field);
  try {
    const a = decodeNpy(bytes, v);
    if (typeof a.data[0] === "bigint") throw new Error(`${v}: 64-bit integers; save the numbers as float64 or float32`);
    return Float64Array.from(a.data as ArrayLike<number>);
  } catch (e) {
    throw new InverseProblemError(field, (e as Error).message);
  }
}

export async function loadObservations(p: InverseProblem, read: InputReader): Promise<Observations> {
  return {
    values: await numbers(p.observations.values, "problem.observations.values", read),
    std: await numbers(p.observations.noise.std, "problem.observations.noise.std", read),
  };
}

/** The forward that runs elsewhere or in batches (onnx, http), ready to run; undefined for the
 *  built-ins and for a lambda forward (the deployed state machine invokes it). */
export async function loadForward(p: InverseProblem, read: InputReader): Promise<BatchForward | undefined> {
  if (p.forward.type === "http") return httpForward(p);
  if (p.forward.type === "onnx") return onnxForward(p, read);
  return undefined;
}

/** The inverse problem a job names, its files read through `read` and its forward loaded (and probed). */
export async function loadInverseProblem(p: InverseProblem, read: InputReader): Promise<InverseProblemModel> {
  return inverseProblem(p, await loadObservations(p, read), await loadForward(p, read));
}

/**
 * The http forward: `batch` members per POST, each request with a timeout and `retries` more
 * attempts (network errors, 5xx, timeouts, malformed answers); a member answered null, or every
 * member of a request that keeps failing, comes back NaN: a failed member for the failure policy.
 * One request at the prior mean first checks the service is there and tells m.
 */
async function httpForward(p: InverseProblem): Promise<BatchForward> {
  const f = p.forward as Extract<InverseProblem["forward"], { type: "http" }>;
  const names = p.parameters.map((q) => q.name),
    n = names.length;
  let m = -1;
  /** one request's outputs (null per failed member), or the reason it failed */
  async function post(u: Float64Array, count: number): Promise<(number[] | null)[] | string> {
    const theta = Array.from({ length: count }, (_, i) => Array.from(u.subarray(i * n, (i + 1) * n)));
    try {
      const res = await fetch(f.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ parameters: names, theta }),
        signal: AbortSignal.timeout(f.timeoutMs),
      });
      const text = await res.text();
      if (!res.ok) return `HTTP ${res.status}`;
      const body = JSON.parse(text) as { outputs?: unknown };
      if (!Array.isArray(body.outputs) || body.outputs.length !== count)
        return `the answer has no outputs for ${count} members`;
      return body.outputs.map((o) =>
        Array.isArray(o) && o.every((v) => typeof v === "number") && (m < 0 || o.length === m) ? (o as number[]) : null,
      );
    } catch (e) {
      const err = e as Error;
      return err.name === "TimeoutError" ? `no answer within ${f.timeoutMs} ms` : err.message;
    }
  }
  const probe = await post(
    Float64Array.from(p.parameters, (q) => q.prior.mean),
    1,
  );
  if (typeof probe === "string" || !probe[0])
    throw new InverseProblemError(
      "problem.forward.url",
      `${f.url} did not answer a forward at the prior mean: ` +
        `${typeof probe === "string" ? probe : "its output was null"}`,
    );
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
async function onnxForward(p: InverseProblem, read: InputReader): Promise<BatchForward> {
  const f = p.forward as Extract<InverseProblem["forward"], { type: "onnx" }>;
  const field = "problem.forward.path";
  const bytes = await read(f.path, field);
  const ort = await loadOrt("native");
  let session: Awaited<ReturnType<typeof ort.InferenceSession.create>>;
  try {
    session = await ort.InferenceSession.create(bytes);
  } catch (e) {
    throw new InverseProblemError(
      field,
      `${f.path} is not an ONNX model ONNX Runtime can load: ${(e as Error).message.split("\n")[0]}`,
    );
  }
  if (session.inputNames.length !== 1 || session.inputNames[0] !== "theta")
    throw new InverseProblemError(
      field,
      `${f.path} has inputs ${JSON.stringify(session.inputNames)}; an onnx forward has one input, theta [B, n]`,
    );
  if (session.outputNames.length < 1) throw new InverseProblemError(field, `${f.path} has no output`);
  const meta = session.inputMetadata[0] as { isTensor?: boolean; type?: string };
  const type = meta.type === "float64" ? "float64" : "float32";
  const n = p.parameters.length,
    output = session.outputNames[0];
  const call = async (u: Float64Array, count: number): Promise<Float64Array> => {
    const data =
      type === "float64" ? Float64Array.from(u.subarray(0, count * n)) : Float32Array.from(u.subarray(0, count * n));
    const r = await session.run({ theta: new ort.Tensor(type, data, [count, n]) });
    const t = r[output];
    if (t.dims.length !== 2 || t.dims[0] !== count)
      throw new InverseProblemError(
        field,
        `${f.path}'s output ${output} has shape [${t.dims.join(", ")}] for ${count} points; an ` +
          `onnx forward answers [B, m]`,
      );
    return Float64Array.from(t.data as ArrayLike<number>);
  };
  // one run at the prior mean: the graph takes n parameters and says m
  const prior = Float64Array.from(p.parameters, (q) => q.prior.mean);
  let probe: Float64Array;
  try {
    probe = await call(prior, 1);
  } catch (e) {
    if (e instanceof InverseProblemError) throw e;
    throw new InverseProblemError(
      field,
      `${f.path} does not run on theta [1, ${n}] (the ${n} parameters): ${(e as Error).message.split("\n")[0]}`,
    );
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
