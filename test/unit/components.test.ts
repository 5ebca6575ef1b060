// Line search, σ/γ schedules and the stopping rule, each against hand-worked cases.
import { describe, expect, it } from "vitest";
import { firstTrial, judgeTrial, lineSearchParams, type LineSearchParams } from "../../shared/enkf/lineSearch.ts";
import { gammaValue, sigmaSchedule } from "../../shared/enkf/schedules.ts";
import { checkStop } from "../../shared/enkf/stopping.ts";
import type { HistoryRow } from "../../shared/enkf/types.ts";
import { StopSpec } from "../../shared/spec/job.ts";

/** Drives the line search's ask/tell pair the way the optimizers do, over a function of η. */
async function backtrack(
  phi0: number,
  slope: number,
  eta0: number,
  params: LineSearchParams | null,
  trial: (eta: number) => number,
) {
  let t = firstTrial(params, phi0, slope, eta0);
  if (!t) return { accepted: false, eta: 0, phi: phi0, backtracks: 0, trials: 0 };
  for (let trials = 1; ; trials++) {
    const phi = trial(t.eta);
    const v = judgeTrial(params, t, phi);
    if (v.kind === "backtrack") {
      t = v.next;
      continue;
    }
    return { accepted: v.kind === "accept", eta: t.eta, phi, backtracks: t.backtracks, trials };
  }
}

describe("Armijo backtracking", () => {
  // Φ(η) = (η − 0.1)² on the ray, Φ(0) = 0.01, slope −0.2: η = 1 fails, 0.5 fails (0.16 > …), 0.125 passes
  const phi = (eta: number) => (eta - 0.1) ** 2;
  it("halves η until sufficient decrease", async () => {
    const tried: number[] = [];
    const r = await backtrack(phi(0), -0.2, 1, { c1: 1e-4, shrink: 0.5, maxBacktracks: 8 }, (eta) => {
      tried.push(eta);
      return phi(eta);
    });
    expect(tried).toEqual([1, 0.5, 0.25, 0.125]);
    expect(r).toMatchObject({ accepted: true, eta: 0.125, backtracks: 3, trials: 4 });
  });
  it("rejects after maxBacktracks", async () => {
    const r = await backtrack(phi(0), -0.2, 1, { c1: 1e-4, shrink: 0.5, maxBacktracks: 2 }, phi);
    expect(r.accepted).toBe(false);
    expect(r.trials).toBe(3);
  });
  it("rejects a non-descent direction without evaluating", async () => {
    let calls = 0;
    const r = await backtrack(1, 0, 1, lineSearchParams(true), () => {
      calls++;
      return 0;
    });
    expect(r.accepted).toBe(false);
    expect(calls).toBe(0);
  });
  it("without line search takes the first step unless it is not finite", async () => {
    expect(await backtrack(0, -1, 2, null, () => 5)).toMatchObject({ accepted: true, eta: 2, phi: 5 });
    expect((await backtrack(0, -1, 2, null, () => NaN)).accepted).toBe(false);
  });
});

describe("σ schedules", () => {
  const full = { accepted: true, backtracks: 0 };
  const partial = { accepted: true, backtracks: 2 };
  const rejected = { accepted: false, backtracks: 8 };
  it("constant and plain numbers never change", () => {
    expect(sigmaSchedule(0.3).next(0.3, 5, rejected)).toBe(0.3);
    expect(sigmaSchedule({ schedule: "constant", initial: 2 }).next(2, 9, full)).toBe(2);
  });
  it("geometric follows initial·decay^k down to the floor", () => {
    const s = sigmaSchedule({ schedule: "geometric", initial: 2, decay: 0.5, minimum: 0.3 });
    expect(s.next(2, 1, full)).toBe(1);
    expect(s.next(1, 2, rejected)).toBe(0.5);
    expect(s.next(0.5, 3, full)).toBe(0.3);
  });
  it("adaptive shrinks after rejection, grows after a full step, holds after backtracking", () => {
    const s = sigmaSchedule({ schedule: "adaptive", initial: 1, shrink: 0.5, grow: 2, minimum: 0.2, maximum: 3 });
    expect(s.next(1, 1, rejected)).toBe(0.5);
    expect(s.next(0.3, 1, rejected)).toBe(0.2);
    expect(s.next(1, 1, full)).toBe(2);
    expect(s.next(2, 1, full)).toBe(3);
    expect(s.next(1, 1, partial)).toBe(1);
  });
  it("γ is fixed or relative to trace/K", () => {
    expect(gammaValue(1e-3, 50, 10)).toBe(1e-3);
    expect(gammaValue({ relative: 0.1 }, 50, 10)).toBeCloseTo(0.5, 15);
  });
});

describe("stopping rule", () => {
  const rows = (objs: number[], accepted = true): HistoryRow[] =>
    objs.map((o, i) => ({
      iteration: i + 1,
      objective: o,
      sigma: 1,
      gamma: 0,
      step: 1,
      accepted,
      backtracks: 0,
      evaluations: 1,
      solver: "",
      seconds: i,
    }));
  const stop = (s: object) => StopSpec.parse(s);
  it("stops at the target objective", () => {
    expect(checkStop(stop({ targetObjective: 0.5 }), rows([1, 0.4]), 0, 1, 2)?.status).toBe("converged");
  });
  it("stops when the relative decrease over the window is below tolerance", () => {
    const s = stop({ tolerance: 1e-3, window: 2 });
    expect(checkStop(s, rows([1, 0.5, 0.4999]), 0, 1, 2)).toBeNull();
    expect(checkStop(s, rows([1, 0.5, 0.4999, 0.49989]), 0, 1, 2)?.status).toBe("converged");
  });
  it("reports stagnation after consecutive rejections", () => {
    expect(checkStop(stop({ maxRejections: 3 }), rows([1, 1, 1], false), 3, 1, 1)?.status).toBe("stagnated");
  });
  it("reports the iteration and time budgets", () => {
    expect(checkStop(stop({ maxIterations: 2 }), rows([3, 2]), 0, 1, 4)?.status).toBe("max_iterations");
    expect(checkStop(stop({ timeLimit: 5 }), rows([3, 2]), 0, 5.1, 4)?.status).toBe("time_limit");
    expect(checkStop(stop({ timeLimit: 5 }), rows([3, 2]), 0, 4.9, 4)).toBeNull();
  });
});
