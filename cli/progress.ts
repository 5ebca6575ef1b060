// Progress output for long runs: a redrawn one-line bar on a TTY, plain periodic lines otherwise.

import type { HistoryRow } from "../shared/enkf/types.ts";

export interface ProgressSink {
  update(row: HistoryRow): void;
  done(): void;
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toExponential(3) : String(x);
}

function duration(s: number): string {
  if (!Number.isFinite(s)) return "?";
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${Math.round(s - 60 * m)}s` : `${Math.floor(m / 60)}h${m % 60}m`;
}

/** Remaining seconds, from the iteration budget and the time limit, whichever comes first. */
export function eta(row: HistoryRow, maxIterations: number, timeLimit?: number): number {
  const perIter = row.seconds / row.iteration;
  let left = perIter * (maxIterations - row.iteration);
  if (timeLimit !== undefined) left = Math.min(left, Math.max(0, timeLimit - row.seconds));
  return left;
}

export function progressSink(
  stream: NodeJS.WriteStream,
  maxIterations: number,
  timeLimit?: number,
  clock: () => number = () => performance.now() / 1000,
): ProgressSink {
  const tty = stream.isTTY === true;
  let last = -Infinity;
  let pending: HistoryRow | null = null;
  const interval = tty ? 0.1 : 2;

  function line(row: HistoryRow): string {
    const parts = [
      `iter ${row.iteration}/${maxIterations}`,
      `objective ${fmt(row.objective)}`,
      `sigma ${fmt(row.sigma)}`,
      `step ${row.accepted ? row.step.toPrecision(3) : "rejected"}`,
    ];
    if (row.distance !== undefined) parts.push(`rel.dist ${fmt(row.distance)}`);
    if (row.batchAccuracy !== undefined) parts.push(`batch acc ${row.batchAccuracy.toFixed(3)}`);
    const e = row.evaluation;
    if (e?.validationAccuracy !== undefined) parts.push(`val acc ${e.validationAccuracy.toFixed(4)}`);
    else if (e?.validationLoss !== undefined) parts.push(`val loss ${e.validationLoss.toExponential(3)}`);
    if (e?.testAccuracy !== undefined) parts.push(`test acc ${e.testAccuracy.toFixed(4)}`);
    parts.push(`elapsed ${duration(row.seconds)}`, `eta ${duration(eta(row, maxIterations, timeLimit))}`);
    return parts.join("  ");
  }
  function draw(row: HistoryRow): void {
    if (tty) {
      const width = 20;
      const filled = Math.min(width, Math.round((width * row.iteration) / maxIterations));
      const bar = "█".repeat(filled) + "░".repeat(width - filled);
      const compact = [
        `${row.iteration}/${maxIterations}`,
        `eta ${duration(eta(row, maxIterations, timeLimit))}`,
        `Φ ${fmt(row.objective)}`,
        `σ ${fmt(row.sigma)}`,
        `η ${row.accepted ? row.step.toPrecision(3) : "rejected"}`,
        ...(row.batchAccuracy !== undefined ? [`acc ${row.batchAccuracy.toFixed(3)}`] : []),
      ].join("  ");
      const cols = stream.columns ?? 120;
      stream.write(`\r${`${bar} ${compact}`.slice(0, cols - 1)}\x1b[K`);
    } else {
      stream.write(line(row) + "\n");
    }
  }
  return {
    update(row) {
      pending = row;
      const t = clock();
      if (t - last >= interval) {
        draw(row);
        last = t;
        pending = null;
      }
    },
    done() {
      if (pending) draw(pending);
      if (tty) stream.write("\n");
    },
  };
}
