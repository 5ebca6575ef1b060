// The job spec: defaults, programmatic values JSON cannot carry, and every example file.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { validateJob, parseJobText } from "../../shared/spec/parse.ts";

const base = { name: "x", problem: { type: "quadratic" }, optimizer: { method: "modified-enkf", ensembleSize: 5 } };

describe("job spec", () => {
  it("fills documented defaults", () => {
    const r = validateJob(base);
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.job.problem).toMatchObject({ type: "quadratic", dimension: 100, condition: 100, spectrum: "harmonic", seed: 0, regularization: 0 });
    expect(r.job.optimizer).toMatchObject({ sigma: 0.01, gamma: 1e-10, stepSize: 1, lineSearch: true, perturbation: "gaussian", seed: 0 });
    expect(r.job.stop).toMatchObject({ maxIterations: 500, tolerance: 0, window: 10, maxRejections: 50 });
  });

  it.each([NaN, Infinity, -1, 0])("rejects σ = %s given as a number", (sigma) => {
    const r = validateJob({ ...base, optimizer: { ...base.optimizer, sigma } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.map((p) => p.path)).toContain("optimizer.sigma");
  });

  it("accepts every example in examples/", () => {
    const dir = join(import.meta.dirname, "..", "..", "examples");
    const files = readdirSync(dir).filter((f) => f.endsWith(".json"));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const r = parseJobText(readFileSync(join(dir, f), "utf8"));
      expect(r.ok, `${f}: ${r.ok ? "" : JSON.stringify(r.problems)}`).toBe(true);
    }
  });
});
