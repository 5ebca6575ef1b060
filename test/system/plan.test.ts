// The cost estimate before launch (enkf plan, POST /jobs?dryRun=true) and following a job while it
// runs (enkf watch), over real processes and real HTTP.
import { runCli, spawnCli } from "../support/cli.ts";
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { startLocalServer } from "../../local/server.ts";
import { estimateCost, lambdaVcpus, PRICES } from "../../shared/plan/costModel.ts";
import { reductionPlan, reductionRefusal, S3_READ_BYTES_PER_SECOND } from "../../shared/plan/reductionPlan.ts";

const root = join(import.meta.dirname, "..", "..");
const tmp = mkdtempSync(join(tmpdir(), "plan-"));

const enkf = (args: string[], env: Record<string, string> = {}) => runCli(args, { cwd: tmp, env });

const job = (iterations: number, extra: object = {}) => ({
  name: "planned",
  problem: {
    type: "classification",
    data: { source: "csv", path: "d.csv", label: "y" },
    model: { type: "mlp", hidden: [8] },
  },
  optimizer: { method: "modified-enkf", ensembleSize: 12, batchSize: 120 },
  stop: { maxIterations: iterations },
  ...extra,
});

beforeAll(() => {
  let s = 5;
  const r = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  writeFileSync(
    join(tmp, "d.csv"),
    "a,b,c,y\n" +
      Array.from({ length: 400 }, () => {
        const a = r(),
          b = r(),
          c = r();
        return `${a},${b},${c},${a - b + c > 0 ? 1 : 0}`;
      }).join("\n") +
      "\n",
  );
  writeFileSync(join(tmp, "job.json"), JSON.stringify(job(200)));
});

describe("the cost model", () => {
  it(
    "adds up Lambda GB-seconds, transitions and requests at the stated prices, and Lambda's " +
      "vCPUs scale with memory",
    () => {
      expect(lambdaVcpus(1769)).toBe(1);
      expect(lambdaVcpus(20_000)).toBe(6);
      const shape = {
        iterations: 100,
        roundsPerIteration: 1.25,
        roundsSource: "given",
        ladderRungs: 9,
        shards: 4,
        ensembleSize: 10,
        maxConcurrency: 10,
        localShardSeconds: 0.5,
        localReduceSeconds: 0.1,
      };
      const e = estimateCost({ ...shape, memoryMb: 1024 });
      // a round's ladder of 9 single-member forwards next to the statistics' K + 1 = 11
      const rounds = 126,
        slow = 1769 / 1024,
        evaluate = 0.5 * (1 + 9 / 11) * slow + 0.15,
        reduce = 0.1 * slow + 0.15 + 0.08;
      expect(e.rounds).toBe(rounds);
      expect(e.lambda.gbSeconds).toBeCloseTo(rounds * (4 * evaluate + reduce) + 2, 9);
      expect(e.lambda.invocations).toBe(rounds * 5 + 2);
      expect(e.stepFunctions.transitions).toBe(rounds * 12 + 3);
      expect(e.dollars).toBeCloseTo(
        e.lambda.gbSeconds * PRICES.lambdaGbSecond +
          e.lambda.invocations * 2e-7 +
          e.stepFunctions.transitions * 2.5e-5 +
          e.s3.gets * 4e-7 +
          e.s3.puts * 5e-6,
        12,
      );
      // more memory past one vCPU buys no speed for the one-threaded kernel, only cost
      const big = estimateCost({ ...shape, memoryMb: 3538 });
      expect(big.wallSeconds).toBeLessThan(e.wallSeconds);
      expect(big.lambda.gbSeconds).toBeGreaterThan(e.lambda.gbSeconds);
      expect(e.assumptions.join(" ")).toMatch(/one per 1,769 MB, at most 6/);
      expect(e.assumptions.join(" ")).toMatch(
        /1\.25 rounds per iteration \(given\), 100 iterations, 126 rounds in all/,
      );
    },
  );

  it("models a round's reduction: bytes, the tree's levels, the reducer's time and memory, and refusals", () => {
    const base = {
      k: 4096,
      shards: 40,
      precision: "float64" as const,
      fanIn: 7,
      partialSeconds: 0.1,
      solveSeconds: 2,
      memoryMb: 3008,
      timeoutSeconds: 300,
    };
    const r = reductionPlan(base);
    const tri = (4096 * 4097) / 2;
    expect(r.partialBytes).toBe(8 + 8 * (7 + 5 + 4096) + 8 * tri);
    expect(r.levels).toEqual([6]);
    expect(r.reducerReads).toBe(6);
    expect(r.bytesWritten).toBe(40 * r.partialBytes + 6 * r.sumBytes);
    // the reducer reads its 6 sums at the stated S3 rate and decodes each, then solves
    expect(r.reduceSeconds).toBeCloseTo(
      6 * (r.sumBytes / S3_READ_BYTES_PER_SECOND + 0.1 * (r.sumBytes / r.partialBytes)) + 2,
      9,
    );
    const narrow = reductionPlan({ ...base, precision: "float32", fanIn: 15 });
    expect(narrow.partialBytes).toBe(8 + 8 * (7 + 5 + 4096) + 4 * tri);
    expect(narrow.levels).toEqual([3]);
    expect(reductionPlan({ ...base, shards: 5 }).levels).toEqual([]);
    expect(reductionPlan({ ...base, shards: 9, fanIn: 2 }).levels).toEqual([5, 3, 2]);
    expect(reductionRefusal(r, base)).toBeNull();
    const small = reductionRefusal(r, { ...base, memoryMb: 512 });
    expect(small?.path).toBe("optimizer.ensembleSize");
    expect(small?.message).toMatch(/reducer needs about \d+ MB at K = 4096/);
    const slow = { ...base, solveSeconds: 400 };
    expect(reductionRefusal(reductionPlan(slow), slow)?.message).toMatch(/300 s limit: the K×K solve is most of it/);
    const wide = { ...base, fanIn: 40, partialSeconds: 10 };
    expect(reductionRefusal(reductionPlan(wide), wide)?.path).toBe("compute.reduceFanIn");
  });

  it("the calibration times real evaluate tasks: the kernel's own phases fit inside the measured task", async () => {
    const { calibrate } = await import("../../shared/plan/calibrate.ts");
    const { loadDataset } = await import("../../shared/data/load.ts");
    const { JobSpec } = await import("../../shared/spec/job.ts");
    const spec = JobSpec.parse({ ...job(10), compute: { shards: 2, backend: "reference" } });
    if (spec.problem.type !== "classification") throw new Error("test job");
    const cal = await calibrate(spec, await loadDataset(spec.problem.data, "classification", tmp), 2, 12);
    expect(cal.kernelSeconds).toBeGreaterThan(0);
    expect(cal.kernelSeconds).toBeLessThanOrEqual(cal.localShardSeconds);
    expect(cal.partialSeconds).toBeGreaterThan(0);
    expect(cal.solveSeconds).toBeGreaterThan(0);
  });

  it("enkf plan calibrates on the job itself and prints every item, its prices and assumptions", () => {
    const r = enkf(["plan", "job.json", "--shards", "4", "--memory", "2048"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /calibrating: timing one shard's evaluate task here .* and running the job's first iterations/,
    );
    for (const item of [
      "Lambda",
      "GB-s",
      "Step Functions",
      "state transitions",
      "S3",
      "GET",
      "PUT",
      "total",
      "wall time",
      "prices (us-east-1, as of",
      "assumptions:",
      "1.16 vCPU at 2048 MB",
    ])
      expect(r.stdout).toContain(item);
    // the job's 200 iterations fit in the pilot: its rounds are counted over the whole run
    expect(r.stdout).toMatch(
      /\d\.\d\d rounds per iteration \(the whole run, run here first: it ends after 200 iterations\)/,
    );
    const json = JSON.parse(enkf(["plan", "job.json", "--json"]).stdout);
    expect(json.rounds).toBe(Math.ceil(200 * json.roundsPerIteration) + 1);
    expect(json.lambda.evaluateSecondsEach).toBeGreaterThan(0.15);
    expect(enkf(["plan", "job.json", "--memory", "64"]).code).toBe(2);
  });

  it(
    "enkf plan counts an inverse job's forward evaluations per member block from a pilot " +
      "through the state machine, and the run agrees",
    () => {
      const spec = JSON.parse(readFileSync(join(root, "examples", "lorenz96.json"), "utf8"));
      writeFileSync(join(tmp, "l96.json"), JSON.stringify({ ...spec, compute: { memberBlocks: 4, keepRounds: true } }));
      const plan = enkf(["plan", "l96.json", "--json"]);
      expect(plan.code, plan.stderr).toBe(0);
      const e = JSON.parse(plan.stdout) as {
        kind: string;
        memberBlocks: number;
        rounds: number;
        evaluations: number;
        evaluationsPerRound: number;
        evaluationsPerBlock: { min: number; max: number };
        aws: { lambda: { invocations: number }; dollars: number };
      };
      expect(e.kind).toBe("inverse");
      expect(e.memberBlocks).toBe(4);
      // at least θ and its K = 8 members a round, cut into 4 blocks of sizes one apart at most
      expect(e.evaluationsPerRound).toBeGreaterThanOrEqual(9);
      expect(e.evaluationsPerBlock.max).toBeLessThanOrEqual(Math.ceil((e.evaluationsPerRound * 2) / 4) + 1);
      expect(e.aws.lambda.invocations).toBe(e.rounds * 5 + 2);
      expect(e.aws.dollars).toBeGreaterThan(0);
      // the run through the state machine: every block's outputs in its store, rows × (4 moments + 2 prior terms)
      const run = enkf(["run", "l96.json", "--out", "l96", "--quiet"]);
      expect(run.code, run.stderr).toBe(0);
      const blocks = readdirSync(join(tmp, "l96", "rounds")).flatMap((r) =>
        readdirSync(join(tmp, "l96", "rounds", r, "blocks")).map(
          (b) => statSync(join(tmp, "l96", "rounds", r, "blocks", b)).size / 8 / 6,
        ),
      );
      const actual = blocks.reduce((a, b) => a + b, 0);
      // extrapolated from 3 iterations, whose early rejections take more rounds than later ones
      expect(Math.abs(actual - e.evaluations) / actual).toBeLessThan(0.5);
    },
  );

  it(
    "enkf plan models a round's bytes and the reducer: at K = 4096 on 40 shards it reports them, " +
      "and at K = 64 on 9 shards with a tree its bytes per round are what a run writes",
    () => {
      const big = { ...job(50), optimizer: { ...job(50).optimizer, ensembleSize: 4096 } };
      writeFileSync(join(tmp, "big.json"), JSON.stringify(big));
      const r = enkf(["plan", "big.json", "--shards", "40", "--memory", "3008", "--json"]);
      expect(r.code, r.stderr).toBe(0);
      const e = JSON.parse(r.stdout);
      // 40 partials of K(K+1)/2 float64 values (64 MB each): 7 fit the 512 MiB read bound, so 6 combine tasks
      expect(e.reduction.partialBytes).toBe(8 + 8 * (7 + 5 + 4096) + 8 * ((4096 * 4097) / 2));
      expect(e.reduction.levels).toEqual([6]);
      expect(e.reduction.bytesWritten).toBe(40 * e.reduction.partialBytes + 6 * e.reduction.sumBytes);
      expect(e.reduction.reduceSeconds).toBeGreaterThan(0);
      expect(e.reduction.reducerBytes).toBeLessThan(3008 * 2 ** 20);
      // a reducer that cannot fit its function is refused, naming what to change
      const small = enkf(["plan", "big.json", "--shards", "40", "--memory", "512"]);
      expect(small.code).toBe(2);
      expect(small.stderr).toMatch(/reducer needs about \d+ MB .* optimizer\.ensembleSize/);

      const tree = {
        ...job(2),
        optimizer: { ...job(2).optimizer, ensembleSize: 64 },
        compute: { shards: 9, reduceFanIn: 2, keepRounds: true, backend: "reference" },
      };
      writeFileSync(join(tmp, "tree.json"), JSON.stringify(tree));
      const planned = JSON.parse(enkf(["plan", "tree.json", "--json"]).stdout);
      expect(planned.reduction.levels).toEqual([5, 3, 2]);
      const ran = enkf(["run", "tree.json", "--out", "tree-run", "--quiet"]);
      expect(ran.code, ran.stderr).toBe(0);
      const round = join(tmp, "tree-run", "rounds", "000001");
      const bytes = (dir: string): number =>
        readdirSync(dir, { withFileTypes: true }).reduce(
          (n, f) =>
            n +
            (f.isDirectory()
              ? bytes(join(dir, f.name))
              : f.name.endsWith(".bin")
                ? statSync(join(dir, f.name)).size
                : 0),
          0,
        );
      expect(bytes(join(round, "partials")) + bytes(join(round, "sums"))).toBe(planned.reduction.bytesWritten);
    },
    240_000,
  );

  it("POST /jobs?dryRun=true answers the same estimate and starts nothing", async () => {
    const server = await startLocalServer({
      location: join(tmp, "svc"),
      port: 0,
      token: "plan-token-0123456789",
      workers: 1,
    });
    try {
      const h = { authorization: "Bearer plan-token-0123456789" };
      const up = (await (
        await fetch(`${server.url}/datasets?name=d&label=y`, {
          method: "POST",
          headers: { ...h, "content-type": "text/csv" },
          body: (await import("node:fs")).readFileSync(join(tmp, "d.csv")),
        })
      ).json()) as { id: string };
      const spec = {
        ...job(200),
        problem: { ...job(200).problem, data: { source: "dataset", id: up.id } },
        compute: { shards: 4 },
      };
      const res = await fetch(`${server.url}/jobs?dryRun=true&memory=2048`, {
        method: "POST",
        headers: { ...h, "content-type": "application/json" },
        body: JSON.stringify(spec),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        dryRun: boolean;
        shards: number;
        estimate: { rounds: number; dollars: number; prices: { region: string } };
      };
      expect(body.dryRun).toBe(true);
      expect(body.estimate.rounds).toBeGreaterThan(200);
      expect(body.estimate.dollars).toBeGreaterThan(0);
      expect(body.estimate.prices.region).toBe("us-east-1");
      const list = (await (await fetch(`${server.url}/jobs`, { headers: h })).json()) as { jobs: unknown[] };
      expect(list.jobs).toEqual([]);
    } finally {
      await server.close();
    }
  });
});

describe("enkf watch", () => {
  it("follows a running job from its directory to the end, in plain lines when not on a terminal", async () => {
    writeFileSync(join(tmp, "w.json"), JSON.stringify(job(120, { compute: { shards: 2, backend: "reference" } })));
    const dir = join(tmp, "watched");
    const run = spawnCli(["run", "w.json", "--out", dir, "--quiet"], { cwd: tmp, stdio: "ignore" });
    const ran = new Promise((r) => run.once("exit", r));
    await new Promise((r) => setTimeout(r, 1500));
    const w = enkf(["watch", dir, "--interval", "0.3"]);
    await ran;
    expect(w.code, w.stderr).toBe(0);
    expect(w.stdout).toMatch(/watched: succeeded: reached the iteration limit \(120\)/);
    const lines = w.stderr.trim().split("\n");
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.some((l) => /^running\s+\d+\/120\s+objective .* eta /.test(l))).toBe(true);
    expect(lines[lines.length - 1]).toMatch(/^succeeded 120\/120/);
    expect(w.stderr).not.toMatch(/\r|\x1b\[/);
  });

  it("follows a job through the API with --url", async () => {
    const server = await startLocalServer({
      location: join(tmp, "svc2"),
      port: 0,
      token: "watch-token-0123456789",
      workers: 1,
    });
    try {
      const h = { authorization: "Bearer watch-token-0123456789" };
      const up = (await (
        await fetch(`${server.url}/datasets?name=d&label=y`, {
          method: "POST",
          headers: { ...h, "content-type": "text/csv" },
          body: (await import("node:fs")).readFileSync(join(tmp, "d.csv")),
        })
      ).json()) as { id: string };
      const spec = {
        ...job(60),
        problem: { ...job(60).problem, data: { source: "dataset", id: up.id } },
        compute: { shards: 2, backend: "reference" },
      };
      const sub = (await (
        await fetch(`${server.url}/jobs`, {
          method: "POST",
          headers: { ...h, "content-type": "application/json" },
          body: JSON.stringify(spec),
        })
      ).json()) as { id: string };
      const child = spawnCli(["watch", sub.id, "--url", server.url, "--interval", "0.2"], {
        env: { ENKF_TOKEN: "watch-token-0123456789" },
      });
      let out = "";
      child.stdout!.on("data", (b: Buffer) => {
        out += b.toString();
      });
      const code = await new Promise((r) => child.once("exit", r));
      expect(code).toBe(0);
      expect(out).toContain(`${sub.id}: succeeded`);
      // the same job by its id in the server's data directory, with no server asked
      const local = enkf(["watch", sub.id, "--data", join(tmp, "svc2")]);
      expect(local.code, local.stderr).toBe(0);
      expect(local.stdout).toContain(`${sub.id}: succeeded`);
    } finally {
      await server.close();
    }
  });
});
