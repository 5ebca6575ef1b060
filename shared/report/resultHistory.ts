// History rows as result.json stores them (non-finite numbers become strings or null) back into
// HistoryRow values for the plots.

import type { HistoryRow } from "../enkf/types.ts";

const toNumber = (v: unknown): number | undefined =>
  v === undefined ? undefined : v === null ? NaN : typeof v === "string" ? Number(v) : (v as number);

export function resultHistory(rows: readonly Record<string, unknown>[]): HistoryRow[] {
  return rows.map((r) => {
    const row = { ...r } as Record<string, unknown>;
    for (const key of [
      "objective",
      "sigma",
      "gamma",
      "step",
      "seconds",
      "batchAccuracy",
      "failedMembers",
      "retries",
      "distance",
    ]) {
      if (key in row) row[key] = toNumber(row[key]);
    }
    return row as unknown as HistoryRow;
  });
}
