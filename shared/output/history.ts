// History rows → CSV text, and result → the JSON document written as result.json.

import type { HistoryRow, RunResult } from "../enkf/types.ts";

const COLUMNS = [
  "iteration",
  "objective",
  "sigma",
  "gamma",
  "step",
  "accepted",
  "backtracks",
  "evaluations",
  "solver",
  "batchAccuracy",
  "failedMembers",
  "retries",
  "seconds",
  "distance",
] as const;
/** columns only some methods or problems fill */
const OPTIONAL = new Set(["distance", "batchAccuracy", "failedMembers", "retries"]);

function cell(v: unknown): string {
  if (v === undefined) return "";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
  return String(v);
}

export function historyCsv(rows: readonly HistoryRow[]): string {
  // optional columns appear only when some row has them
  const cols = COLUMNS.filter((c) => !OPTIONAL.has(c) || rows.some((r) => r[c] !== undefined));
  const evalKeys = [...new Set(rows.flatMap((r) => Object.keys(r.evaluation ?? {})))];
  const lines = [[...cols, ...evalKeys].join(",")];
  for (const r of rows) {
    lines.push(
      [...cols.map((c) => cell(r[c as keyof HistoryRow])), ...evalKeys.map((k) => cell(r.evaluation?.[k]))].join(","),
    );
  }
  return lines.join("\n") + "\n";
}

/** JSON has no NaN or ±Infinity: they become null. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2) + "\n";
}

export interface ResultDocumentContext {
  name: string;
  spec: unknown;
  environment: Record<string, unknown>;
  files: Record<string, string>;
}

export function resultDocument(result: RunResult, ctx: ResultDocumentContext): Record<string, unknown> {
  return {
    name: ctx.name,
    status: result.status,
    message: result.message,
    iterations: result.iterations,
    objective: result.objective,
    evaluations: result.evaluations,
    seconds: result.seconds,
    metrics: result.metrics,
    ...(result.parameters ? { parameters: result.parameters } : {}),
    ...(result.posterior ? { posterior: result.posterior } : {}),
    ...(result.best ? { best: result.best } : {}),
    ...(result.last ? { last: { iteration: result.iterations, metrics: result.last.metrics } } : {}),
    files: ctx.files,
    environment: ctx.environment,
    spec: ctx.spec,
    history: result.history,
  };
}
