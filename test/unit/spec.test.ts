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
    expect(r.job.problem).toMatchObject({
      type: "quadratic",
      dimension: 100,
      condition: 100,
      spectrum: "harmonic",
      seed: 0,
      regularization: 0,
    });
    expect(r.job.optimizer).toMatchObject({
      sigma: 0.01,
      gamma: 1e-10,
      stepSize: 1,
      lineSearch: true,
      perturbation: "gaussian",
      seed: 0,
    });
    expect(r.job.stop).toMatchObject({ maxIterations: 500, tolerance: 0, window: 10, maxRejections: 50 });
  });

  it.each([NaN, Infinity, -1, 0])("rejects σ = %s given as a number", (sigma) => {
    const r = validateJob({ ...base, optimizer: { ...base.optimizer, sigma } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.map((p) => p.path)).toContain("optimizer.sigma");
  });

  it("defaults optimizer.method to modified-enkf, so a bad field is named, not the discriminator", () => {
    const r = validateJob({ name: "x", problem: { type: "quadratic" }, optimizer: { ensembleSize: -3 } });
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.problems).toEqual([{ path: "optimizer.ensembleSize", message: expect.stringMatching(/>=\s*2/) }]);
    const ok = validateJob({ name: "x", problem: { type: "quadratic" }, optimizer: { ensembleSize: 4 } });
    expect(ok.ok && ok.job.optimizer.method).toBe("modified-enkf");
  });

  it("says a missing field is required", () => {
    const r = validateJob({
      problem: { type: "classification", data: { source: "csv", label: "y" }, model: { type: "mlp" } },
      optimizer: {},
    });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.problems).toContainEqual({ path: "name", message: "required (a string)" });
      expect(r.problems).toContainEqual({ path: "problem.data.path", message: "required (a string)" });
      expect(r.problems).toContainEqual({ path: "optimizer.ensembleSize", message: "required (a number)" });
    }
  });

  it("network problems evaluate, keep the best θ and stop early by default; the others cannot", () => {
    const net = validateJob({
      name: "x",
      problem: { type: "classification", data: { source: "mnist" }, model: { type: "mlp" } },
      optimizer: { ensembleSize: 4 },
    });
    if (!net.ok) throw new Error(JSON.stringify(net.problems));
    expect(net.job.stop).toMatchObject({
      evaluateEvery: 10,
      earlyStopping: { metric: "validationLoss", patience: 10, minDelta: 0 },
    });
    expect(net.job.problem.type === "classification" && net.job.problem.data.validationFraction).toBe(0.1);
    const off = validateJob({
      name: "x",
      problem: { type: "classification", data: { source: "mnist" }, model: { type: "mlp" } },
      optimizer: { ensembleSize: 4 },
      stop: { earlyStopping: false },
    });
    expect(off.ok && off.job.stop.earlyStopping).toBe(false);
    expect(validateJob(base).ok && (validateJob(base) as { job: { stop: object } }).job.stop).not.toHaveProperty(
      "evaluateEvery",
    );
    const bad = validateJob({ ...base, stop: { earlyStopping: {}, evaluateEvery: 5, discrepancy: { noise: 0.1 } } });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.problems.map((p) => p.path).sort()).toEqual(["stop.discrepancy", "stop.earlyStopping"]);
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
