// The modified EnKF's ask/tell protocol (shared/enkf/modifiedEnkf.ts), one row per transition:
// start → statistics → trial → accept, backtrack, reject, and redraw; a non-finite start; and the
// speculation wrapper's round. Every state and answer handed to tell is frozen (typed arrays
// compared before and after), so a test fails if tell changes what it was given.
import { describe, expect, it } from "vitest";
import { modifiedEnkf, type Answer, type Ask, type EnkfState } from "../../shared/enkf/modifiedEnkf.ts";
import { speculative } from "../../shared/enkf/speculation.ts";
import { JobSpec, type ModifiedEnkfSpec, type StopSpec } from "../../shared/spec/job.ts";

const job = JobSpec.parse({
  name: "protocol",
  problem: { type: "quadratic", dimension: 3 },
  optimizer: {
    method: "modified-enkf",
    ensembleSize: 2,
    sigma: { schedule: "adaptive", initial: 0.1 },
    gamma: 0,
    stepSize: 1,
    seed: 7,
    failedMembers: { tolerance: 0, retries: 1 },
    lineSearch: { c1: 0.5, shrink: 0.5, maxBacktracks: 2 },
  },
  stop: { maxIterations: 50 },
});
const spec = job.optimizer as ModifiedEnkfSpec,
  stop = job.stop as StopSpec;

/** Freezes objects and arrays; typed arrays cannot be frozen, so their bytes are checked after. */
function frozen<T>(value: T): { value: T; unchanged: () => void } {
  const arrays: [Float64Array, number[]][] = [];
  const walk = (v: unknown) => {
    if (v instanceof Float64Array) {
      arrays.push([v, Array.from(v)]);
      return;
    }
    if (v && typeof v === "object" && !Object.isFrozen(v)) {
      Object.freeze(v);
      Object.values(v).forEach(walk);
    }
  };
  walk(value);
  return { value, unchanged: () => arrays.forEach(([a, copy]) => expect(Array.from(a)).toEqual(copy)) };
}

/** A statistics answer: Φ, G = I, b = (−1, −1) (a descent direction), d = Ωs as s itself padded. */
const stats = (phi: number, rhs = [-1, -1]): Answer => ({
  stats: {
    phi,
    gram: Float64Array.of(1, 0, 0, 1),
    rhs: Float64Array.from(rhs),
    direction: (s, out) => {
      out.fill(0);
      out.set(s);
    },
  },
});
const trial = (phi: number): Answer => ({ trialPhis: [phi] });

/** Tells `answer` with both frozen; returns the new state, its records and the next ask. */
function tell(process: ReturnType<typeof modifiedEnkf>, state: EnkfState, answer: Answer) {
  const s = frozen(state),
    a = frozen(answer);
  const told = process.tell(s.value, a.value, 1);
  s.unchanged();
  a.unchanged();
  return { ...told, ask: process.ask(told.state) };
}

type Step = { answer: Answer; records: number; ask: (ask: Ask | null, state: EnkfState) => void };
const theta0 = Float64Array.of(0, 0, 0);

// Φ₀ = 10 and slope bᵀs = −2 (s = −G⁻¹b = (1, 1)): a trial at η passes Armijo when Φ ≤ 10 − η
const table: [string, Step[]][] = [
  ["start: the statistics at θ₀ for iteration 0, its draw in the ask", []],
  [
    "statistics → a trial at η₀ = 1 with its ladder",
    [
      {
        answer: stats(10),
        records: 0,
        ask: (a) => {
          expect(a?.statistics).toBe(false);
          expect(a?.trial?.etas).toEqual([1]);
          expect(a?.trial?.ladder.etas).toEqual([1, 0.5, 0.25]);
          expect(Array.from(a!.trial!.direction)).toEqual([1, 1, 0]);
        },
      },
    ],
  ],
  [
    "trial → accepted: a row, θ moved, the next iteration's statistics",
    [
      { answer: stats(10), records: 0, ask: () => {} },
      {
        answer: trial(8),
        records: 1,
        ask: (a, s) => {
          expect(s.progress.history[0]).toMatchObject({
            iteration: 1,
            accepted: true,
            step: 1,
            backtracks: 0,
            objective: 8,
          });
          expect(Array.from(s.theta)).toEqual([1, 1, 0]);
          expect(a).toMatchObject({ statistics: true, iteration: 1, attempt: 0 });
          expect(a!.sigma).toBeGreaterThan(0.1); // the adaptive σ grows after a full step
        },
      },
    ],
  ],
  [
    "trial → backtrack: no row, the next rung at η/2",
    [
      { answer: stats(10), records: 0, ask: () => {} },
      {
        answer: trial(9.9),
        records: 0,
        ask: (a, s) => {
          expect(a?.trial?.etas).toEqual([0.5]);
          expect(Array.from(s.theta)).toEqual([0, 0, 0]);
        },
      },
    ],
  ],
  [
    "backtracks spent → rejected: a row, θ kept, σ shrunk",
    [
      { answer: stats(10), records: 0, ask: () => {} },
      { answer: trial(11), records: 0, ask: () => {} },
      { answer: trial(11), records: 0, ask: () => {} },
      {
        answer: trial(11),
        records: 1,
        ask: (a, s) => {
          expect(s.progress.history[0]).toMatchObject({ accepted: false, step: 0, backtracks: 2, objective: 10 });
          expect(Array.from(s.theta)).toEqual([0, 0, 0]);
          expect(a).toMatchObject({ statistics: true, iteration: 1 });
          expect(a!.sigma).toBeLessThan(0.1);
        },
      },
    ],
  ],
  [
    "a failed member → redrawn: no row, attempt 1 with σ halved and a fresh seed",
    [
      {
        answer: stats(10, [-1, NaN]),
        records: 0,
        ask: (a) => {
          expect(a).toMatchObject({ statistics: true, iteration: 0, attempt: 1 });
          expect(a!.draw.sigma).toBe(0.05);
          expect(a!.draw.seed).not.toBe(7);
        },
      },
    ],
  ],
  [
    "a non-finite Φ at the start → failed, nothing more to ask",
    [
      {
        answer: stats(NaN),
        records: 0,
        ask: (a, s) => {
          expect(a).toBeNull();
          expect(s.progress.done?.status).toBe("failed");
        },
      },
    ],
  ],
];

describe("the modified EnKF's ask/tell protocol", () => {
  it.each(table)("%s", (_name, steps) => {
    const enkf = modifiedEnkf(spec, stop);
    let state = enkf.init(theta0);
    const first = enkf.ask(state)!;
    expect(first).toMatchObject({ statistics: true, iteration: 0, attempt: 0, sigma: 0.1 });
    expect(first.draw).toMatchObject({ seed: 7, iteration: 0, sigma: 0.1 });
    for (const step of steps) {
      const told = tell(enkf, state, step.answer);
      expect(told.records).toHaveLength(step.records);
      step.ask(told.ask, told.state);
      state = told.state;
    }
  });

  it("the speculation wrapper: a whole ladder and the next statistics in one ask, the core's steps", () => {
    const core = modifiedEnkf(spec, stop),
      rounds = speculative(core);
    const start = core.init(theta0);
    const a = tell(core, start, stats(10)),
      b = tell(rounds, start, stats(10));
    expect(b.state).toEqual(a.state);
    // one round: rungs η = 1, 0.5, 0.25 and the statistics at the rung the last accepted step took (0)
    expect(b.ask?.trial?.etas).toEqual([1, 0.5, 0.25]);
    expect(b.ask).toMatchObject({ statistics: true, iteration: 1, trial: { statisticsRung: 0 } });
    expect(Array.from(b.ask!.point)).toEqual([1, 1, 0]);
    // accepted at rung 0: the speculated statistics are told too, and the next trial is asked at once
    const round = tell(rounds, b.state, { trialPhis: [8, 9, 9.5], ...stats(8) });
    const alone = tell(core, tell(core, a.state, trial(8)).state, stats(8));
    expect(round.records.map((r) => r.objective)).toEqual([8]);
    expect(round.state).toEqual(alone.state);
    expect(round.ask?.trial?.iteration).toBe(1);
  });
});
