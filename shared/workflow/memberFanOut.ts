// The member-block fan-out (fanOut.ts) of an inverse job's rounds, whose parallel axis is the
// ensemble rather than data. A round's points (the modified EnKF's θ, its K members and the
// ladder's rungs, ../distributed/memberBlocks.ts; EKI's particles or their mean) are cut into
// compute.memberBlocks contiguous blocks; block b's task evaluates the forward at its points and
// stores their outputs (rows × M numbers), and the reduction puts the blocks back in order and
// forms the process's answer from all the outputs, as the in-process evaluators do. A lambda
// forward's block is three states: its request (the constrained points), the state machine's
// invocation of the user's function, and the store of its answer (a failed invocation stores none:
// its members are failed members).

import { blockRange, roundAnswer, roundPoints, type RoundPoints } from "../distributed/memberBlocks.ts";
import type { PointsAsk } from "../enkf/eki.ts";
import type { Ask } from "../enkf/modifiedEnkf.ts";
import { forwardPoints } from "../problems/forwardPoints.ts";
import type { InverseProblem } from "../problems/inverse.ts";
import { NotFoundError, type BlobStore } from "../store/blobStore.ts";
import type { FanOut, Worker } from "./fanOut.ts";
import { bytesF64, f64Bytes, PARTIAL_TAGS } from "./jobStore.ts";

const pad = (i: number) => String(i).padStart(6, "0");
export const blockKey = (round: number, block: number) => `rounds/${pad(round)}/blocks/${pad(block)}.f64`;

/** The points of a round, count × n. */
interface Points {
  points: Float64Array;
  count: number;
}

/** How a process's asks become points, and the points' outputs its answer. */
export interface PointsOf {
  points(ask: unknown): Points;
  answer(ask: unknown, outputs: Float64Array, points: Points): unknown;
}

/** The modified EnKF's round: θ, its K members, the ladder's rungs (memberBlocks.ts). */
export function enkfPoints(problem: InverseProblem, k: number): PointsOf {
  return {
    points: (ask) => roundPoints(ask as Ask, k, problem.dimension),
    answer: (ask, outputs, rp) =>
      roundAnswer(problem.loss, ask as Ask, k, problem.outputSize, rp as RoundPoints, outputs),
  };
}

/** EKI's round: the points it asks for, answered with their outputs. */
export const ekiPoints: PointsOf = {
  points: (ask) => ({ points: (ask as PointsAsk).points, count: (ask as PointsAsk).count }),
  answer: (_ask, outputs) => ({ outputs }),
};

export interface MemberRound {
  blocks: number;
  /** the job's forward is a Lambda function the state machine invokes */
  lambda: boolean;
  functionArn?: string;
  parameterNames: string[];
}

export function memberFanOut(
  store: BlobStore,
  problem: InverseProblem,
  of: PointsOf,
  round: MemberRound,
  worker: Worker,
): FanOut {
  const n = problem.dimension,
    size = problem.outputSize;
  const block = (all: Points, b: number) => {
    if (b >= round.blocks) throw new RangeError(`block ${b} of a job with ${round.blocks} member blocks`);
    const { start, end } = blockRange(all.count, round.blocks, b);
    return { rows: end - start, start, points: all.points.subarray(start * n, end * n) };
  };

  /** A block's stored outputs if they read back whole with the right length, else null. */
  async function stored(r: number, b: number, values: number): Promise<Float64Array | null> {
    try {
      const out = bytesF64(await store.get(blockKey(r, b)));
      return out.length === values ? out : null;
    } catch (e) {
      if (e instanceof NotFoundError) return null;
      console.warn(`enkf: round ${r}, member block ${b}: ${(e as Error).message}; evaluating the block again`);
      return null;
    }
  }

  const fanOut: FanOut = {
    branch: round.lambda ? "lambda" : "members",
    items: round.blocks,
    async evaluate(r, b, ask, opts = {}) {
      const { rows, points } = block(of.points(ask), b);
      if (!opts.force && (await stored(r, b, rows * size))) return;
      if (round.lambda)
        throw new Error(
          `round ${r}, member block ${b}: a lambda forward is invoked by the state machine (its ` +
            `Forward (lambda) state), not by this task`,
        );
      const out = new Float64Array(rows * size);
      await forwardPoints(problem, points, rows, out);
      worker.crash("evaluate", r);
      await store.put(blockKey(r, b), f64Bytes(out), "application/octet-stream", PARTIAL_TAGS);
    },
    async answer(r, ask) {
      const t0 = performance.now();
      const all = of.points(ask);
      const outs = new Float64Array(all.count * size);
      for (let b = 0; b < round.blocks; b++) {
        const { rows, start } = block(all, b);
        let got = await stored(r, b, rows * size);
        if (!got && !round.lambda) {
          await fanOut.evaluate(r, b, ask, { force: true });
          got = await stored(r, b, rows * size);
        }
        if (!got) throw new Error(`round ${r}: member block ${b}'s outputs are missing or unreadable`);
        outs.set(got, start * size);
      }
      return { answer: of.answer(ask, outs, all), timings: { io: (performance.now() - t0) / 1000 } };
    },
    ...(round.lambda
      ? {
          async request(r: number, b: number, ask: unknown) {
            const { rows, points } = block(of.points(ask), b);
            const u = problem.constrained(points, rows);
            return {
              FunctionName: round.functionArn!,
              Payload: {
                parameters: round.parameterNames,
                theta: Array.from({ length: rows }, (_, i) => Array.from(u.subarray(i * n, (i + 1) * n))),
              },
            };
          },
          async store(r: number, b: number, ask: unknown, outputs: unknown) {
            const { rows, points } = block(of.points(ask), b);
            const m = problem.observed;
            const g = new Float64Array(rows * m).fill(NaN);
            if (Array.isArray(outputs) && outputs.length === rows) {
              outputs.forEach((o, i) => {
                if (Array.isArray(o) && o.length === m && o.every((v) => typeof v === "number"))
                  g.set(o as number[], i * m);
              });
            }
            const out = new Float64Array(rows * size);
            problem.outputs(points, rows, g, out);
            await store.put(blockKey(r, b), f64Bytes(out), "application/octet-stream", PARTIAL_TAGS);
          },
        }
      : {}),
  };
  return fanOut;
}
