// The cost of running a job on AWS, before launch: Lambda GB-seconds and requests, Step Functions
// state transitions, S3 requests, dollars and wall time, from the job's shape and a measured
// local time per shard evaluation. Pure: numbers in, an estimate out. The prices are AWS's public
// on-demand list prices for us-east-1 (arm64 Lambda, Standard workflows, S3 Standard) as published
// in 2025, when the authors last read the pricing pages (the machines this was built on have no
// network); every estimate prints them and its own date, to be checked before relying on dollars.

import { S3_READ_BYTES_PER_SECOND, type ReductionPlan } from "./reductionPlan.ts";

export const PRICES = {
  region: "us-east-1",
  /** when these list prices were read; the estimate prints it */
  asOf: "2025 (AWS pricing pages; not re-checked since)",
  lambdaGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  stateTransition: 0.025 / 1000,
  s3Put: 0.005 / 1000,
  s3Get: 0.0004 / 1000,
} as const;

/** One vCPU per 1,769 MB of Lambda memory, at most 6. */
export const lambdaVcpus = (memoryMb: number) => Math.min(6, memoryMb / 1769);

export interface PlanInput {
  iterations: number;
  /** rounds per iteration (a pilot's observation, pilot.ts) and where the number comes from */
  roundsPerIteration: number;
  roundsSource: string;
  /** rounds after the last iteration (an inverse job's Laplace posterior: one per draw) */
  finalRounds?: number;
  /** the line-search ladder's rungs per round (single-member forwards next to the K+1 of the statistics):
   *  the search's maxBacktracks + 1, or 1 without a search (the step's point); 0 when the pilot's
   *  counted evaluations include them (inverse jobs) */
  ladderRungs: number;
  shards: number;
  /** K */
  ensembleSize: number;
  /** parallel evaluate tasks per round (compute.maxConcurrency; a Distributed Map above 40 shards) */
  maxConcurrency: number;
  /** evaluate's and reduce's Lambda memory (MB) */
  memoryMb: number;
  /** measured here: seconds for one shard's evaluate task on one core (the kernel runs one thread) */
  localShardSeconds: number;
  /** measured here: seconds for one reduce of all shards' partials */
  localReduceSeconds: number;
  /** a sharded job's round reduction (reductionPlan.ts): its bytes, tree and combine tasks */
  reduction?: ReductionPlan;
}

export interface PlanEstimate {
  rounds: number;
  roundsPerIteration: number;
  lambda: { invocations: number; gbSeconds: number; dollars: number; evaluateSecondsEach: number };
  stepFunctions: { transitions: number; dollars: number };
  s3: { gets: number; puts: number; dollars: number };
  dollars: number;
  wallSeconds: number;
  /** a sharded job's round reduction: bytes per round, the tree, the reducer's time and memory */
  reduction?: ReductionPlan;
  prices: typeof PRICES;
  assumptions: string[];
}

/** per evaluate task: its S3 requests' latency and the invocation's own overhead (warm) */
const TASK_OVERHEAD_S = 0.15;
/** per round: Step Functions' transitions between Map, Reduce and the Choice */
const ROUND_OVERHEAD_S = 0.4;

/** What a round evaluates besides the statistics, in words. */
function ladderText(p: PlanInput): string {
  if (p.ladderRungs === 0) return "the line search's points are among the forward evaluations the pilot counted";
  const counted = `counted as ${p.ladderRungs} of the K + 1 = ${p.ensembleSize + 1} forwards`;
  if (p.ladderRungs === 1)
    return (
      `with the line search off, a round also evaluates Φ at the step's point (one single-member ` +
      `forward, ${counted})`
    );
  return (
    `a round evaluates the whole line-search ladder (${p.ladderRungs} rungs: the step and up ` +
    `to ${p.ladderRungs - 1} backtracks, ${counted})`
  );
}

export function estimateCost(p: PlanInput): PlanEstimate {
  const rounds = Math.ceil(p.iterations * p.roundsPerIteration) + 1 + (p.finalRounds ?? 0);
  const S = p.shards;
  // the kernel runs on one thread: below one vCPU Lambda slows it in proportion, above it no faster
  const slow = Math.max(1, 1 / lambdaVcpus(p.memoryMb));
  // a round's ladder: one single-member forward per rung, taken as 1/(K+1) of the statistics' time
  const ladder = 1 + p.ladderRungs / (p.ensembleSize + 1);
  const evaluateSeconds = p.localShardSeconds * ladder * slow + TASK_OVERHEAD_S;
  const reduceSeconds = p.localReduceSeconds * slow + TASK_OVERHEAD_S + 0.02 * S;
  const gb = p.memoryMb / 1024;
  // a reduction tree's combine tasks: each node's task, the levels one after another
  const nodes = p.reduction?.levels.reduce((a, b) => a + b, 0) ?? 0,
    levels = p.reduction?.levels.length ?? 0;
  const combineSeconds = nodes > 0 ? p.reduction!.combineSeconds * slow + TASK_OVERHEAD_S : 0;
  const invocations = rounds * (S + 1 + nodes) + 2; // evaluates, combines and a reduce per round; Init and Finalize
  const gbSeconds = rounds * (S * evaluateSeconds + nodes * combineSeconds + reduceSeconds) * gb + 2 * 1 * gb;
  const lambdaDollars = gbSeconds * PRICES.lambdaGbSecond + invocations * PRICES.lambdaRequest;
  // per round: Fan out, the Map, 2 per shard (its iteration and Evaluate), Reduce, Next?; plus Start?, Init, Finalize
  const transitions = rounds * (2 * S + 4 + (levels > 0 ? 2 * nodes + 2 * levels + 2 : 0)) + 3;
  const sfnDollars = transitions * PRICES.stateTransition;
  // per shard and round: spec, plan, point, manifest and the ladder's base and direction read,
  // partial and trial written; the reducer reads spec, plan, point, base, direction, state (3) and
  // every partial and trial, and writes 5
  const gets = rounds * (6 * S + 9 + 2 * S);
  const puts = rounds * (2 * S + 5) + S * 2 + 10;
  const s3Dollars = gets * PRICES.s3Get + puts * PRICES.s3Put;
  const waves = Math.ceil(S / Math.max(1, p.maxConcurrency));
  const treeWaves = (p.reduction?.levels ?? []).reduce((w, n) => w + Math.ceil(n / Math.max(1, p.maxConcurrency)), 0);
  const wallSeconds =
    rounds * (waves * evaluateSeconds + treeWaves * combineSeconds + reduceSeconds + ROUND_OVERHEAD_S);
  return {
    rounds,
    roundsPerIteration: p.roundsPerIteration,
    lambda: { invocations, gbSeconds, dollars: lambdaDollars, evaluateSecondsEach: evaluateSeconds },
    stepFunctions: { transitions, dollars: sfnDollars },
    s3: { gets, puts, dollars: s3Dollars },
    dollars: lambdaDollars + sfnDollars + s3Dollars,
    wallSeconds,
    ...(p.reduction ? { reduction: p.reduction } : {}),
    prices: PRICES,
    assumptions: [
      `Lambda gives ${(p.memoryMb / 1769).toFixed(2)} vCPU at ${p.memoryMb} MB (one per 1,769 ` +
        `MB, at most 6); the kernel uses one thread, so a Lambda vCPU is taken as fast as one core ` +
        `of this machine${slow > 1 ? `, and ${slow.toFixed(2)}× slower below one vCPU` : ""}`,
      `${p.roundsPerIteration.toFixed(2)} rounds per iteration (${p.roundsSource}), ` +
        `${p.iterations} iterations${p.finalRounds ? ` and ${p.finalRounds} after them (a posterior's)` : ""}, ` +
        `${rounds} rounds in all; ${ladderText(p)}`,
      `${TASK_OVERHEAD_S} s per task for S3 requests and invocation overhead (warm functions), ` +
        `${ROUND_OVERHEAD_S} s per round for Step Functions`,
      `shards run ${Math.min(S, p.maxConcurrency)} at a time (${waves} wave${waves === 1 ? "" : "s"} per round)`,
      ...(p.reduction
        ? [
            `the reduction reads S3 at ${S3_READ_BYTES_PER_SECOND / 1e6} MB/s per function, and decodes, ` +
              `adds and solves as fast as this machine did (timed here)`,
          ]
        : []),
      `list prices for ${PRICES.region} as of ${PRICES.asOf}; free tiers, data transfer and ` +
        `CloudWatch logs are not counted`,
    ],
  };
}

export function formatEstimate(e: PlanEstimate, title: string): string {
  const usd = (v: number) => (v < 0.01 ? `$${v.toFixed(5)}` : `$${v.toFixed(2)}`);
  const time = (s: number) =>
    s < 120 ? `${s.toFixed(0)} s` : s < 7200 ? `${(s / 60).toFixed(1)} min` : `${(s / 3600).toFixed(1)} h`;
  return [
    `${title}`,
    `  rounds                 ${e.rounds} (${e.roundsPerIteration.toFixed(2)} per iteration; see the assumptions)`,
    `  Lambda                 ${e.lambda.invocations.toLocaleString("en-US")} invocations, ` +
      `${e.lambda.gbSeconds.toFixed(1)} GB-s (evaluate ≈ ` +
      `${e.lambda.evaluateSecondsEach.toFixed(2)} s each)   ${usd(e.lambda.dollars)}`,
    `  Step Functions         ${e.stepFunctions.transitions.toLocaleString("en-US")} state ` +
      `transitions   ${usd(e.stepFunctions.dollars)}`,
    `  S3                     ${e.s3.gets.toLocaleString("en-US")} GET, ` +
      `${e.s3.puts.toLocaleString("en-US")} PUT   ${usd(e.s3.dollars)}`,
    ...(e.reduction ? [reductionLine(e.reduction, time)] : []),
    `  total                  ${usd(e.dollars)}`,
    `  wall time              about ${time(e.wallSeconds)}`,
    `  prices (${e.prices.region}, as of ${e.prices.asOf}): Lambda arm64 ` +
      `$${e.prices.lambdaGbSecond} per GB-s and $0.20 per million requests; Step Functions ` +
      `Standard $0.025 per 1,000 transitions; S3 $0.005 per 1,000 PUT and $0.0004 per 1,000 GET`,
    `  assumptions:`,
    ...e.assumptions.map((a) => `    - ${a}`),
    "",
  ].join("\n");
}

const mb = (b: number) => (b < 2 ** 30 ? `${(b / 2 ** 20).toFixed(1)} MB` : `${(b / 2 ** 30).toFixed(2)} GB`);

/** The round's reduction in a line: bytes, the tree, the reducer's time and memory. */
function reductionLine(r: ReductionPlan, time: (s: number) => string): string {
  const tree =
    r.levels.length === 0
      ? "no tree: the reducer reads every partial"
      : `a tree of ${r.levels.length} level${r.levels.length > 1 ? "s" : ""} (${r.levels.join(", ")} combine ` +
        `tasks, ${time(r.treeSeconds)}), the reducer reads ${r.reducerReads}`;
  return (
    `  per round              ${mb(r.bytesWritten)} of partials written and read (${mb(r.partialBytes)} ` +
    `per shard); ${tree}; reduce ≈ ${r.reduceSeconds.toFixed(2)} s, reducer memory ≈ ${mb(r.reducerBytes)}`
  );
}
