// Parsing a job document: JSON text → validated JobSpec, or every problem found.

import { JobSpec } from "./job.ts";
import { specProblems, type SpecProblem } from "./errors.ts";

export type ParseResult = { ok: true; job: JobSpec } | { ok: false; problems: SpecProblem[] };

export function validateJob(value: unknown): ParseResult {
  const r = JobSpec.safeParse(value);
  if (r.success) return { ok: true, job: r.data };
  return { ok: false, problems: specProblems(r.error) };
}

/** Line and column (1-based) of a character offset in text. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1,
    last = -1;
  for (let i = 0; i < offset && i < text.length; i++)
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  return { line, column: offset - last };
}

export function parseJobText(text: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const m = /position (\d+)/.exec(msg);
    const where = m ? (({ line, column }) => ` at line ${line}, column ${column}`)(lineColumn(text, Number(m[1]))) : "";
    return {
      ok: false,
      problems: [{ path: "", message: `malformed JSON${where}: ${msg.replace(/ in JSON at position \d+.*$/, "")}` }],
    };
  }
  return validateJob(value);
}
