// Failed ensemble members: a problem whose forward returns NaN in a known region (θ₀ above a
// threshold) trains anyway. Members landing there are dropped from Q and counted in the history;
// a trial point there fails the line search; too many failures redraw the ensemble with σ halved;
// a non-finite Φ at the mean rejects the iteration. The workflow's reducer (rounds.ts) takes the
// same steps as the in-process optimizer.
import { describe, expect, it } from "vitest";
import { validMembers, solveValid } from "../../shared/enkf/failurePolicy.ts";
import { optimizeAll } from "../../shared/enkf/optimize.ts";
import { referenceKernel } from "../../shared/kernels/reference.ts";
import { solveSymmetric } from "../../shared/math/linalg.ts";
import { quadratic } from "../../shared/problems/quadratic.ts";
import type { Problem } from "../../shared/problems/types.ts";
import { kernelAnswers } from "../../shared/enkf/kernelAnswers.ts";
import { modifiedEnkf } from "../../shared/enkf/modifiedEnkf.ts";
import { speculative } from "../../shared/enkf/speculation.ts";
import { regeneratedDirection } from "../../shared/math/perturbation.ts";
import { JobSpec, type ModifiedEnkfSpec, type StopSpec } from "../../shared/spec/job.ts";

/** The quadratic's forward, NaN where `bad` says (θ and the iteration). */
function withNan(base: Problem, bad: (theta: Float64Array, iteration: number) => boolean): Problem {
  const view = (iteration: number): Problem => ({
    ...base,
    kind: "nan-region",
    initial: () => base.initial(),
    at: view,
    forward(theta, out) {
      if (bad(theta, iteration)) out.fill(NaN);
      else base.forward(theta, out);
    },
  });
  return view(0);
}

const parse = (optimizer: object, iterations: number) => {
  const job = JobSpec.parse({
    name: "nan",
    problem: { type: "quadratic", dimension: 12 },
    optimizer: { method: "modified-enkf", ...optimizer },
    stop: { maxIterations: iterations },
  });
  return { spec: job.optimizer as ModifiedEnkfSpec, stop: job.stop as StopSpec };
};

async function inProcess(problem: Problem, spec: ModifiedEnkfSpec, stop: StopSpec) {
  return optimizeAll({ problem, optimizer: spec, stop, kernel: referenceKernel(problem, spec.ensembleSize) });
}

/** The workflow's way over the same problem: every trial also asks for the next statistics
 *  (speculation), and d = Ωs comes from Ω regenerated from the seed, as the reducer forms it. */
async function byRounds(problem: Problem, spec: ModifiedEnkfSpec, stop: StopSpec) {
  const kernel = referenceKernel(problem, spec.ensembleSize);
  const process = speculative(modifiedEnkf(spec, stop));
  const answer = kernelAnswers(problem, kernel, 0);
  let state = process.init(problem.initial());
  for (let ask = process.ask(state); ask; ask = process.ask(state)) {
    const reply = await answer(ask);
    const stats = reply.stats && {
      ...reply.stats,
      direction: (s: Float64Array, out: Float64Array) => regeneratedDirection(ask.draw, s, out),
    };
    ({ state } = process.tell(state, { ...reply, ...(stats ? { stats } : {}) }, 0));
  }
  return { ...state, ...state.progress };
}

describe("members whose forward fails", () => {
  it("are found from their non-finite rows of QᵀWQ and Qᵀg, and the system is solved without them", () => {
    const k = 4;
    const gram = Float64Array.from([4, 1, NaN, 0.5, 1, 3, NaN, 0.2, NaN, NaN, NaN, NaN, 0.5, 0.2, NaN, 2]);
    const rhs = Float64Array.from([1, -2, NaN, 0.5]);
    const { mask, valid } = validMembers(gram, rhs, k);
    expect(Array.from(mask)).toEqual([1, 1, 0, 1]);
    expect(valid).toBe(3);
    const spec = parse({ ensembleSize: 4, gamma: 0 }, 1).spec;
    const out = solveValid(gram, rhs, k, mask, valid, spec);
    // the 3×3 system of members 0, 1, 3 solved directly
    const sub = solveSymmetric(
      Float64Array.from([4, 1, 0.5, 1, 3, 0.2, 0.5, 0.2, 2]),
      Float64Array.from([1, -2, 0.5]),
      3,
    ).x;
    expect(Array.from(out.s)).toEqual([-sub[0], -sub[1], 0, -sub[2]]);
    expect(out.slope).toBeCloseTo(-(1 * sub[0] - 2 * sub[1] + 0.5 * sub[2]), 14);
  });

  it("are dropped and counted while the run still converges; no accepted point is in the NaN region", async () => {
    const base = quadratic({ dimension: 12, condition: 10, seed: 1 });
    // θ₀ = 0 and θ*[0] ≈ 0.55: members reaching below θ[0] = −0.12 fail, about 1 in 9 at σ = 0.1
    const limit = -0.12;
    const problem = withNan(base, (theta) => theta[0] < limit);
    const { spec, stop } = parse({ ensembleSize: 20, sigma: 0.1, seed: 4 }, 40);
    const run = await inProcess(problem, spec, stop);
    // steps were taken with some members dropped, never more than the tolerated 20%
    const used = run.history.filter((h) => h.solver !== "");
    expect(used.some((h) => h.failedMembers! > 0 && h.accepted)).toBe(true);
    for (const h of used) expect(h.failedMembers).toBeLessThanOrEqual(0.2 * 20);
    expect(Number.isFinite(run.objective)).toBe(true);
    expect(run.objective).toBeLessThan(1e-8);
    for (const h of run.history) expect(Number.isFinite(h.objective)).toBe(true);
    expect(run.theta[0]).toBeGreaterThanOrEqual(limit);
    expect(Array.from(run.theta).every(Number.isFinite)).toBe(true);
  });

  it("redraws the ensemble with σ halved when too many fail, and the reducer takes the same steps", async () => {
    const base = quadratic({ dimension: 12, condition: 10, seed: 1 });
    // most members of σ = 0.4 land beyond 0.05 on θ[0]; halving σ a few times brings them back
    const problem = withNan(base, (theta) => theta[0] > 0.05);
    const { spec, stop } = parse(
      { ensembleSize: 16, sigma: 0.4, seed: 7, failedMembers: { tolerance: 0.25, retries: 6 } },
      12,
    );
    const run = await inProcess(problem, spec, stop);
    const retried = run.history.filter((h) => (h.retries ?? 0) > 0);
    expect(retried.length).toBeGreaterThan(0);
    for (const h of retried) expect(h.sigma).toBe(0.4 * 0.5 ** h.retries!);
    const state = await byRounds(problem, spec, stop);
    expect(Array.from(state.theta)).toEqual(Array.from(run.theta));
    expect(state.history.map((h) => [h.accepted, h.retries, h.failedMembers, h.sigma])).toEqual(
      run.history.map((h) => [h.accepted, h.retries, h.failedMembers, h.sigma]),
    );
  });

  it("rejects an iteration whose Φ at the mean is not finite, and gives up after the last retry", async () => {
    const base = quadratic({ dimension: 12, condition: 10, seed: 1 });
    const problem = withNan(base, (_theta, iteration) => iteration === 3);
    const { spec, stop } = parse({ ensembleSize: 10, sigma: 0.1, seed: 2 }, 6);
    const run = await inProcess(problem, spec, stop);
    expect(run.history[3].accepted).toBe(false);
    expect(run.history[3].step).toBe(0);
    expect(run.history[2].accepted && run.history[4].accepted).toBe(true);
    expect(Number.isFinite(run.objective)).toBe(true);
    const state = await byRounds(problem, spec, stop);
    expect(Array.from(state.theta)).toEqual(Array.from(run.theta));
    // every point but θ₀ fails: all members fail however small σ gets; each iteration is rejected
    const hopeless = withNan(base, (theta) => theta.some((v) => v !== 0));
    const p2 = parse({ ensembleSize: 10, sigma: 0.1, seed: 2, failedMembers: { retries: 2 } }, 3);
    const r2 = await inProcess(hopeless, p2.spec, p2.stop);
    expect(r2.history.map((h) => [h.accepted, h.retries, h.failedMembers])).toEqual([
      [false, 2, 10],
      [false, 2, 10],
      [false, 2, 10],
    ]);
  });
});
