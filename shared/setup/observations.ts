// An inverse problem's observations and noise, with the .npy files they name read (relative to
// the job file's directory): numbers inline, or float32/float64 .npy of any shape (flattened).
// Errors name the field.

import { readFile } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { decodeNpy } from "../formats/npy.ts";
import { InverseProblemError, type Observations } from "../problems/inverse.ts";
import type { InverseProblem } from "../spec/job.ts";

async function numbers(v: number | number[] | string, field: string, base: string): Promise<Float64Array> {
  if (typeof v === "number") return Float64Array.of(v);
  if (Array.isArray(v)) return Float64Array.from(v);
  const path = isAbsolute(v) ? v : join(base, v);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InverseProblemError(field, `cannot read ${v}: ${code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
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
