// npm run bench's large-ensemble section: bench/largeEnsembles.ts at K = 1000, 2048 and 4096 (and
// K = 4096 with float32 partials), each in a process of its own, printed next to the same script's
// figures on commit 0379bd2, before the packed partials, the reduction tree, the pruning and the
// blocked solve (bench/large-ensembles-before.json, measured on this machine's kind).

import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

interface Large {
  K: number;
  shards: number;
  iterations: number;
  precision: string;
  partialBytes: number;
  roundBytes: number;
  peakDiskBytes: number;
  finalDiskBytes: number;
  thetaBytes: number;
  reduceSeconds: number;
  readPartialSeconds: number;
  solveSeconds: number;
  wallSeconds: number;
  peakRssMb: number;
  tasks?: { task: string; seconds: number; peakRssMb: number }[];
}

/** K, shards, iterations, then the partials' precision and "tasks" (each task's own peak RSS) */
export const LARGE_CONFIGS: [number, number, number, ...string[]][] = [
  [1000, 4, 10],
  [2048, 4, 50],
  [4096, 16, 3, "float64", "tasks"],
  [4096, 16, 3, "float32"],
];

const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

export function largeEnsembleSection(root: string): Record<string, unknown>[] {
  const before = JSON.parse(readFileSync(join(root, "bench", "large-ensembles-before.json"), "utf8")) as Large[];
  const out: Record<string, unknown>[] = [];
  for (const [k, shards, iterations, ...more] of LARGE_CONFIGS) {
    const precision = more[0] === "float32" ? more[0] : undefined;
    const args = [join(root, "bench", "largeEnsembles.ts"), String(k), String(shards), String(iterations), ...more];
    const r = spawnSync(process.execPath, ["--import", "tsx", ...args], { encoding: "utf8" });
    if (r.status !== 0) {
      console.log(`large ensembles K=${k}: ${r.stderr.trim().split("\n").pop()}`);
      continue;
    }
    const a = JSON.parse(r.stdout.trim().split("\n").pop()!) as Large;
    const b = precision ? undefined : before.find((x) => x.K === k && x.shards === shards);
    out.push({ after: a, ...(b ? { before: b } : {}) });
    const line = (x: Large) =>
      `partial ${mb(x.partialBytes)}, ${mb(x.roundBytes)} per round, reduce ${x.reduceSeconds.toFixed(2)} s ` +
      `(solve ${x.solveSeconds.toFixed(2)} s, one partial read ${x.readPartialSeconds.toFixed(3)} s), peak ` +
      `RSS ${x.peakRssMb.toFixed(0)} MiB, store ${mb(x.peakDiskBytes)} at most while running, ` +
      `${mb(x.finalDiskBytes)} after`;
    const label =
      `large ensembles K=${k}, ${shards} shards, ${iterations} iterations` +
      (precision ? `, ${precision} partials` : "");
    console.log(`${label}:\n  after:  ${line(a)}${b ? `\n  before: ${line(b)}` : ""}`);
    if (a.tasks)
      console.log(
        `  each task in a process of its own: ` +
          a.tasks.map((t) => `${t.task} ${t.peakRssMb.toFixed(0)} MiB (${t.seconds.toFixed(1)} s)`).join(", ") +
          ` (target ≤ 2048 MiB)`,
      );
    // the goals: the reduction within 2× the solve plus one partial's read; the finished job's store
    // within 2× (θ + one round's partials)
    const bound = 2 * a.solveSeconds + a.readPartialSeconds;
    console.log(
      `  reduce ${a.reduceSeconds.toFixed(2)} s against 2 × solve + one read = ${bound.toFixed(2)} s; finished ` +
        `store ${mb(a.finalDiskBytes)} against 2 × (θ + a round's partials) = ` +
        `${mb(2 * (a.thetaBytes + a.roundBytes))}`,
    );
  }
  return out;
}
