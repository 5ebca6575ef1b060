// The stochastic regime's parts: the step length's schedules (their values against the formulas,
// written out here), and iterate averaging as a wrapper of any process (a process whose iterates
// are known: each told iteration moves θ by +1 or is rejected), never changing the state it is told.
import { describe, expect, it } from "vitest";
import { averaged } from "../../shared/enkf/averaging.ts";
import { startProgress, withRow, type Process, type ProcessState } from "../../shared/enkf/process.ts";
import { stepLength } from "../../shared/enkf/schedules.ts";
import { inMemory, runLoop } from "../../shared/enkf/runLoop.ts";
import type { HistoryRow } from "../../shared/enkf/types.ts";
import { JobSpec, StopSpec } from "../../shared/spec/job.ts";

describe("the step length's schedules", () => {
  it("follow their formulas; constant is η₀ itself", () => {
    expect(stepLength({ schedule: "constant" }, 0.3, 50)).toBe(0.3);
    expect(stepLength({ schedule: "inverse-time", tau: 100 }, 1, 100)).toBeCloseTo(0.5, 15);
    const cos = { schedule: "cosine" as const, iterations: 10, minimum: 0.1 };
    expect(stepLength(cos, 2, 0)).toBeCloseTo(2, 15);
    expect(stepLength(cos, 2, 5)).toBeCloseTo(0.2 + 1.8 * 0.5, 15);
    expect(stepLength(cos, 2, 10)).toBeCloseTo(0.2, 15);
    expect(stepLength(cos, 2, 30)).toBeCloseTo(0.2, 15);
    const step = { schedule: "step" as const, every: 3, factor: 0.5 };
    expect([0, 2, 3, 6, 7].map((k) => stepLength(step, 1, k))).toEqual([1, 1, 0.5, 0.25, 0.25]);
  });
});

/** θ ← θ + 1 for an accepted iteration, unchanged for a rejected one; the answer says which. */
function counter(stop: StopSpec): Process<ProcessState, true, boolean> {
  return {
    method: "counter",
    init: (theta0) => ({ theta: Float64Array.from(theta0), progress: startProgress(0), evaluations: 0 }),
    ask: (state) => (state.progress.done ? null : true),
    tell(state, accepted, elapsed) {
      const k = state.progress.history.length;
      const theta = accepted ? state.theta.map((v) => v + 1) : state.theta;
      const row = { iteration: k, objective: 1 / (k + 1), accepted, step: 1, backtracks: 0, seconds: elapsed };
      const next = withRow({ ...state, theta }, stop, row as unknown as HistoryRow);
      return { state: next, records: [row as unknown as HistoryRow] };
    },
  };
}

const deepFreeze = <T>(o: T): T => {
  if (o && typeof o === "object" && !ArrayBuffer.isView(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
};

describe("iterate averaging", () => {
  const stop = StopSpec.parse({ maxIterations: 6, tolerance: 0 });
  const answers = [true, true, false, true, true, true];
  const run = (spec: Parameters<typeof averaged>[1]) => {
    const p = averaged(counter(stop), spec);
    let state = p.init(Float64Array.of(0, 10));
    const seen: number[] = [];
    for (const a of answers) {
      deepFreeze(state);
      state = p.tell(state, a, 0).state;
      seen.push(state.theta[0]);
    }
    return { seen, inner: state.inner.theta[0], second: state.theta[1] };
  };
  // the wrapped process's iterates θ_1 … θ_6 (θ_0 = 0)
  const iterates = [1, 2, 2, 3, 4, 5];

  it("ema: θ̄_k = β θ̄_{k−1} + (1 − β) θ_k from θ̄_0 = θ_0, every iteration (rejected ones too)", () => {
    const { seen, inner, second } = run({ type: "ema", decay: 0.5 });
    let m = 0;
    const want = iterates.map((t) => (m = 0.5 * m + 0.5 * t));
    expect(seen).toEqual(want);
    expect(inner).toBe(5);
    expect(second).toBeCloseTo(10 + want[5], 12);
  });

  it("tail: θ_k until `start`, then the mean of θ_start … θ_k", () => {
    const { seen } = run({ type: "tail", start: 3 });
    expect(seen).toEqual([1, 2, 2, 2.5, 3, 3.5]);
  });
});

describe("momentum", () => {
  it("needs the line search off, and says why", () => {
    const job = (lineSearch: boolean) =>
      JobSpec.safeParse({
        name: "m",
        problem: { type: "quadratic", dimension: 4 },
        optimizer: { ensembleSize: 4, momentum: 0.9, lineSearch },
      });
    expect(job(false).success).toBe(true);
    const refused = job(true);
    expect(refused.success).toBe(false);
    expect(JSON.stringify(refused.error?.issues)).toContain("momentum needs lineSearch false");
  });
});

describe("a wrapped process under the run loop", () => {
  it("keeps the loop's evaluations in its history and stops early on them (averaging)", async () => {
    const stop = StopSpec.parse({
      maxIterations: 50,
      tolerance: 0,
      evaluateEvery: 1,
      earlyStopping: { metric: "validationLoss", patience: 2 },
    });
    const p = averaged(counter(stop), { type: "ema", decay: 0.5 });
    // the validation loss is smallest at θ̄ = 2: it improves, then worsens
    const evaluate = async (theta: Float64Array) => ({ validationLoss: Math.abs(theta[0] - 2) });
    const run = runLoop(p, async () => true, inMemory(stop, { evaluate }), Float64Array.of(0));
    let step = await run.next();
    while (!step.done) step = await run.next();
    const result = step.value;
    expect(result.status).toBe("early_stopped");
    expect(result.history.every((h) => h.evaluation !== undefined)).toBe(true);
    expect(result.history.length).toBeLessThan(10);
  });
});
