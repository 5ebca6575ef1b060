// The service's limits, checked before any work starts so that a job too large for a worker fails
// at once with a message naming the field, never hours later with an out-of-memory kill.
//   ensembleSize   K ≤ 4,096: the K×K statistics are 128 MiB of float64 per shard at the limit
//   parameters     n ≤ 50,000,000
//   members        n·(K+1) ≤ 1,000,000,000: the packed member tensor is 4 GiB of float32 at the limit
//   shards         ≤ 10,000 (and no more than the training rows)
//   shard size     ≤ 256 MiB of features and targets per training shard (what one worker holds)
//   runtime        stop.timeLimit ≤ 30 days
// `enkf serve` adds its own: at most --max-jobs (default 32) jobs queued or running.

export const LIMITS = {
  ensembleSize: 4096,
  parameters: 50_000_000,
  memberValues: 1_000_000_000,
  shards: 10_000,
  shardBytes: 256 * 2 ** 20,
  timeLimitSeconds: 30 * 86_400,
} as const;

export interface LimitProblem {
  path: string;
  message: string;
}

export interface JobSize {
  /** K */
  ensembleSize?: number;
  /** n, the model's parameters */
  parameters: number;
  /** stop.timeLimit */
  timeLimit?: number;
  /** for sharded jobs: the training rows, values per row (features + targets) and shards */
  shards?: { count: number; trainRows: number; valuesPerRow: number };
}

export function limitProblems(size: JobSize): LimitProblem[] {
  const out: LimitProblem[] = [];
  const k = size.ensembleSize;
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  if (k !== undefined && k > LIMITS.ensembleSize)
    out.push({
      path: "optimizer.ensembleSize",
      message:
        `K = ${k} is over the limit of ${LIMITS.ensembleSize} (the K×K statistics alone would be ` +
        `${mib(8 * k * k)} per shard)`,
    });
  if (size.parameters > LIMITS.parameters)
    out.push({
      path: "problem.model",
      message:
        `the model has ${size.parameters.toLocaleString("en-US")} parameters, over the limit of ` +
        `${LIMITS.parameters.toLocaleString("en-US")}`,
    });
  if (k !== undefined && size.parameters * (k + 1) > LIMITS.memberValues) {
    out.push({
      path: "optimizer.ensembleSize",
      message:
        `${size.parameters.toLocaleString("en-US")} parameters × ${k + 1} members is ` +
        `${mib(4 * size.parameters * (k + 1))} of member weights, over the ` +
        `${mib(4 * LIMITS.memberValues)} a worker holds; lower K or the model's size`,
    });
  }
  if (size.timeLimit !== undefined && size.timeLimit > LIMITS.timeLimitSeconds)
    out.push({
      path: "stop.timeLimit",
      message: `${size.timeLimit} s is over the limit of ${LIMITS.timeLimitSeconds} s (30 days)`,
    });
  const sh = size.shards;
  if (sh) {
    if (sh.count > LIMITS.shards)
      out.push({ path: "compute.shards", message: `${sh.count} shards is over the limit of ${LIMITS.shards}` });
    else if (sh.count > sh.trainRows)
      out.push({
        path: "compute.shards",
        message: `${sh.count} shards for ${sh.trainRows} training rows: every shard needs at least one row`,
      });
    const bytes = Math.ceil(sh.trainRows / Math.max(1, sh.count)) * sh.valuesPerRow * 4;
    if (bytes > LIMITS.shardBytes)
      out.push({
        path: "compute.shards",
        message:
          `a shard of ${Math.ceil(sh.trainRows / sh.count)} rows is ${mib(bytes)}, over the ` +
          `${mib(LIMITS.shardBytes)} a worker holds; use at least ` +
          `${Math.ceil((sh.trainRows * sh.valuesPerRow * 4) / LIMITS.shardBytes)} shards`,
      });
  }
  return out;
}

export class LimitError extends Error {
  override name = "LimitError";
  constructor(readonly problems: LimitProblem[]) {
    super(`the job is over the service's limits:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join("\n")}`);
  }
}

export function checkLimits(size: JobSize): void {
  const problems = limitProblems(size);
  if (problems.length) throw new LimitError(problems);
}
