// `npx tsx bench/coverageStudy.ts [draws]`: how often the Laplace posterior's 95% intervals cover
// the truth. examples/lorenz96.json's job (the 40-variable ring, F and α, its optimizer and
// stopping rule) runs in process on `draws` synthetic observation sets y = G(F = 8, α = 1) + η,
// η ~ N(0, diag(std²)) from a seeded LCG and Box–Muller (independent of the service's RNG), the
// truth fixed. Prints and writes bench/coverage-study.json: per draw the intervals and whether they
// hold the truth, the count, and the time it took. test/system/coverage.test.ts runs the same study.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { optimizeAll } from "../shared/enkf/optimize.ts";
import { fileInputs, loadInverseProblem } from "../shared/setup/inverseInputs.ts";
import { lorenz96Statistics } from "../shared/simulators/lorenz96.ts";
import { JobSpec } from "../shared/spec/job.ts";

const root = join(import.meta.dirname, "..");
export const TRUTH = { forcing: 8, coupling: 1 };

/** The example's job, as written. */
const example = () => JSON.parse(readFileSync(join(root, "examples", "lorenz96.json"), "utf8"));

export interface CoverageRow {
  draw: number;
  intervals: Record<string, [number, number]>;
  covered: Record<string, boolean>;
  seconds: number;
}

/** The study: one calibration per observation draw; every interval that holds its truth counts. */
export async function lorenzCoverage(draws: number, seed = 20261207) {
  const base = example();
  const { forward, noise } = { forward: base.problem.forward, noise: base.problem.observations.noise.std as number[] };
  const g = new Float64Array(4);
  lorenz96Statistics(TRUTH, forward, g);
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  const normal = () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  const rows: CoverageRow[] = [];
  const t0 = performance.now();
  for (let d = 0; d < draws; d++) {
    const y = Array.from(g, (v, r) => v + noise[r] * normal());
    const job = JobSpec.parse({
      ...base,
      problem: { ...base.problem, observations: { values: y, noise: { std: noise } } },
    });
    if (job.problem.type !== "inverse") throw new Error("the example is an inverse problem");
    const t = performance.now();
    const problem = await loadInverseProblem(job.problem, fileInputs(root));
    const result = await optimizeAll({ problem, optimizer: job.optimizer, stop: job.stop });
    const post = result.posterior;
    if (!post || post.method !== "laplace" || !("parameters" in post))
      throw new Error(`draw ${d}: no Laplace posterior (${JSON.stringify(post)})`);
    const intervals = Object.fromEntries(Object.entries(post.parameters).map(([k, q]) => [k, q.interval]));
    const covered = Object.fromEntries(
      Object.entries(TRUTH).map(([k, v]) => [k, intervals[k][0] <= v && v <= intervals[k][1]]),
    );
    rows.push({ draw: d, intervals, covered, seconds: (performance.now() - t) / 1000 });
  }
  const count = (k: string) => rows.filter((r) => r.covered[k]).length;
  return {
    draws,
    covered: { forcing: count("forcing"), coupling: count("coupling") },
    both: rows.filter((r) => r.covered.forcing && r.covered.coupling).length,
    seconds: (performance.now() - t0) / 1000,
    rows,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const draws = Number(process.argv[2] ?? 20);
  const study = await lorenzCoverage(draws);
  for (const r of study.rows)
    console.log(
      `draw ${String(r.draw).padStart(2)}: ` +
        Object.entries(r.intervals)
          .map(([k, [lo, hi]]) => `${k} [${lo.toFixed(3)}, ${hi.toFixed(3)}]${r.covered[k] ? "" : " (misses)"}`)
          .join(", ") +
        ` ${r.seconds.toFixed(2)} s`,
    );
  console.log(
    `covered the truth: forcing ${study.covered.forcing}/${draws}, coupling ${study.covered.coupling}/${draws}, ` +
      `both ${study.both}/${draws}; ${study.seconds.toFixed(1)} s`,
  );
  writeFileSync(join(root, "bench", "coverage-study.json"), JSON.stringify(study, null, 2) + "\n");
}
