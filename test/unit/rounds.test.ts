// The sharded rounds (workers evaluate shards and every rung of a pending line search, the
// reducer decides) take the same steps as the in-process optimizer: bitwise with one shard, to
// rounding with four (the sums over shards are added in another order).
import { describe, expect, it } from "vitest";
import { shardPlan, type ShardData } from "../../shared/distributed/evaluateShard.ts";
import { runRounds } from "../../shared/workflow/runRounds.ts";
import { optimizeAll } from "../../shared/enkf/optimize.ts";
import { referenceKernel } from "../../shared/kernels/reference.ts";
import { networkProblem } from "../../shared/problems/network.ts";
import { ModifiedEnkfOptimizer, StopSpec } from "../../shared/spec/job.ts";
import { randomClassification, relDiff } from "../support/synthetic.ts";

const ds = randomClassification(260, 5, 3, 20, 31, 0);
const model = { type: "mlp" as const, inputs: 5, hidden: [6], outputs: 3, activation: "tanh" as const };

function shardsOf(count: number, batchSize: number | undefined): ShardData[] {
  return shardPlan(ds.train.rows, count).map((slice) => ({
    model,
    loss: "cross-entropy",
    kind: "classification",
    outputs: 3,
    slice,
    trainRows: ds.train.rows,
    batchSize,
    batchSeed: 6,
    rows: {
      x: ds.train.x.subarray(slice.start * 5, slice.end * 5),
      labels: ds.train.labels!.subarray(slice.start, slice.end),
      rows: slice.end - slice.start,
    },
  }));
}

describe("sharded rounds = the in-process modified EnKF", () => {
  it.each([
    [
      "mini-batches, line search with backtracks",
      { batchSize: 80, stepSize: 4, lineSearch: true, sigma: { schedule: "adaptive", initial: 0.05 } },
      0,
    ],
    ["full batch, no line search", { stepSize: 1, lineSearch: false, sigma: 0.05 }, 0],
    ["mini-batches, regularization", { batchSize: 80, stepSize: 2, lineSearch: true, sigma: 0.05 }, 0.05],
  ] as const)("%s: the same θ and history over 20 iterations with 1 and 4 shards", async (_label, opt, alpha) => {
    const spec = ModifiedEnkfOptimizer.parse({
      method: "modified-enkf",
      ensembleSize: 8,
      gamma: { relative: 1e-3 },
      seed: 3,
      ...opt,
    });
    const stop = StopSpec.parse({ maxIterations: 20 });
    const batchSize = "batchSize" in opt ? opt.batchSize : undefined;
    // the loss in sum form, as jobs build it for the modified EnKF (shared/setup/jobSetup.ts)
    const problem = networkProblem({
      model,
      dataset: ds,
      loss: "cross-entropy",
      batchSize,
      batchSeed: 6,
      initSeed: 2,
      lossScale: 1,
    });
    const local = await optimizeAll({
      problem,
      optimizer: spec,
      stop,
      regularization: alpha,
      kernel: referenceKernel(problem, 8),
    });
    expect(local.history.length).toBe(20);
    if (opt.lineSearch) expect(local.history.some((h) => h.backtracks > 0)).toBe(true);
    for (const count of [1, 4]) {
      const { result: state, rounds } = await runRounds({
        spec,
        stop,
        alpha,
        shards: shardsOf(count, batchSize),
        theta0: problem.initial(),
        kernel: async (p, k) => referenceKernel(p, k),
      });
      expect(state.status).toBe("max_iterations");
      expect(state.history.map((h) => [h.accepted, h.backtracks])).toEqual(
        local.history.map((h) => [h.accepted, h.backtracks]),
      );
      expect(relDiff(state.theta, local.theta)).toBeLessThan(1e-9);
      if (count === 1) {
        expect(Array.from(state.theta)).toEqual(Array.from(local.theta));
        expect(state.history.map((h) => h.objective)).toEqual(local.history.map((h) => h.objective));
      }
      state.history.forEach((h, i) =>
        expect(Math.abs(h.objective - local.history[i].objective) / Math.abs(local.history[i].objective)).toBeLessThan(
          1e-9,
        ),
      );
      // the whole ladder in one round: an iteration costs one round when the step is taken at the
      // speculated rung (the one the previous accepted step took), two otherwise; one when it is
      // rejected untried (no descent); each redraw of the ensemble one more; after the last
      // iteration no statistics are asked for
      let expected = 1,
        rung = 0;
      local.history.forEach((h, i) => {
        const untried = !h.accepted && h.evaluations === 9 * ((h.retries ?? 0) + 1);
        const last = i === local.history.length - 1;
        expected += (h.retries ?? 0) + (untried || last || (h.accepted && h.backtracks === rung) ? 1 : 2);
        if (h.accepted) rung = h.backtracks;
      });
      expect(rounds).toBe(expected);
    }
  });
});
