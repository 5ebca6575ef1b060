// The Laplace posterior's intervals, tested as a user would read them (issue 30): over 20 synthetic
// observation draws of the Lorenz-96 example with the truth (F = 8, α = 1) fixed, the 95% intervals
// of each parameter hold the truth in at least 17 (bench/coverageStudy.ts; its numbers are in
// docs/method.md#uncertainty). Exact coverage is not promised: the posterior is a Bayesian's, the
// Jacobian a secant at the draws' scale; 17 of 20 is what a calibrated 95% interval fails to reach
// about 1.6% of the time.
import { describe, expect, it } from "vitest";
import { lorenzCoverage } from "../../bench/coverageStudy.ts";

describe("the Lorenz-96 example's 95% intervals", () => {
  it("cover the truth in at least 17 of 20 observation draws, for F and for α", { timeout: 180_000 }, async () => {
    const study = await lorenzCoverage(20);
    expect(study.rows).toHaveLength(20);
    expect(study.covered.forcing, JSON.stringify(study.rows.map((r) => r.intervals))).toBeGreaterThanOrEqual(17);
    expect(study.covered.coupling).toBeGreaterThanOrEqual(17);
    // and no interval is degenerate
    for (const r of study.rows) for (const [lo, hi] of Object.values(r.intervals)) expect(hi - lo).toBeGreaterThan(0);
  });
});
