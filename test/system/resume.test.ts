// Crash safety and resume: `enkf run` of a sharded job is SIGKILLed at five points (during an
// evaluate, during a reduce, in the middle of a write, between iterations, during finalize) by
// ENKF_CRASH_AT; `enkf resume` finishes each run with θ bitwise equal to an uninterrupted run (and
// so does an inverse job on member blocks, killed during a block's evaluate or a reduce, its Laplace
// posterior's round included).
// Also: rerunning evaluate or reduce writes identical objects; the reducer re-evaluates a corrupt
// or missing partial rather than use it; injected transient evaluate faults are healed by the
// state machine's Retry; a permanent one fails the job loudly, keeping its completed iterations.
import { runCli } from "../support/cli.ts";
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { handlers } from "../../functions/handlers.ts";
import { runLocalWorkflow } from "../../local/engine.ts";
import { localStore } from "../../shared/store/localStore.ts";
import { keys, loadState } from "../../shared/workflow/jobStore.ts";
import { prepareJob } from "../../shared/workflow/shardJob.ts";
import { randomClassification } from "../support/synthetic.ts";

const root = join(import.meta.dirname, "..", "..");
const tmp = mkdtempSync(join(tmpdir(), "resume-"));
const spec = {
  name: "crashy",
  problem: {
    type: "classification",
    data: { source: "csv", path: "d.csv", label: "y" },
    model: { type: "mlp", hidden: [6] },
    seed: 3,
  },
  optimizer: { method: "modified-enkf", ensembleSize: 8, batchSize: 60, seed: 9 },
  stop: { maxIterations: 10 },
  compute: { shards: 3, backend: "reference", maxConcurrency: 3 },
};

const enkf = (args: string[], env: Record<string, string> = {}) => runCli(args, { cwd: tmp, env });

beforeAll(() => {
  let s = 7;
  const r = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const lines = ["a,b,c,y"];
  for (let i = 0; i < 240; i++) {
    const a = r(),
      b = r(),
      c = r();
    lines.push(`${a},${b},${c},${a + b * c > 0 ? 1 : 0}`);
  }
  writeFileSync(join(tmp, "d.csv"), lines.join("\n") + "\n");
  writeFileSync(join(tmp, "job.json"), JSON.stringify(spec));
});

describe("enkf resume after SIGKILL", () => {
  it.each([
    ["during an evaluate", "evaluate:4"],
    ["during a reduce", "reduce:5"],
    ["during a write (bytes in place, checksum not)", "write:state/000006.bin"],
    ["between iterations", "between:3"],
    ["during finalize", "finalize"],
  ])("killed %s, it finishes with the uninterrupted run's θ, bit for bit", (_what, crashAt) => {
    const ref = join(tmp, "ref");
    if (!existsSync(join(ref, "theta.npy"))) expect(enkf(["run", "job.json", "--out", ref, "--quiet"]).code).toBe(0);
    const dir = join(tmp, `crash-${crashAt.replace(/[^a-z0-9]/gi, "-")}`);
    const killed = enkf(["run", "job.json", "--out", dir, "--quiet"], { ENKF_CRASH_AT: crashAt });
    expect(killed.signal).toBe("SIGKILL");
    expect(existsSync(join(dir, "result.json"))).toBe(false);
    const resumed = enkf(["resume", dir]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming/);
    expect(readFileSync(join(dir, "theta.npy")).equals(readFileSync(join(ref, "theta.npy")))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, "result.json"), "utf8")).iterations).toBe(10);
  });

  it.each([
    ["during a tree node's write", "write:rounds/000004/sums/000001/000001.bin"],
    ["during a reduce", "reduce:5"],
  ])(
    "with a reduction tree (3 shards, fan-in 2), killed %s, it finishes with the uninterrupted run's θ",
    (_what, crashAt) => {
      const tree = { ...spec, compute: { ...spec.compute, reduceFanIn: 2 } };
      writeFileSync(join(tmp, "tree.json"), JSON.stringify(tree));
      const ref = join(tmp, "tree-ref");
      if (!existsSync(join(ref, "theta.npy"))) expect(enkf(["run", "tree.json", "--out", ref, "--quiet"]).code).toBe(0);
      const dir = join(tmp, `tree-crash-${crashAt.replace(/[^a-z0-9]/gi, "-")}`);
      const killed = enkf(["run", "tree.json", "--out", dir, "--quiet"], { ENKF_CRASH_AT: crashAt });
      expect(killed.signal).toBe("SIGKILL");
      const resumed = enkf(["resume", dir]);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(readFileSync(join(dir, "theta.npy")).equals(readFileSync(join(ref, "theta.npy")))).toBe(true);
    },
  );

  it("says clearly what it cannot resume", () => {
    const r = enkf(["resume", "no-such-run"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no run directory "no-such-run"/);
    const done = enkf(["resume", join(tmp, "ref")]);
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/already finished/);
  });
});

describe("enkf resume of an inverse job on member blocks", () => {
  // the Laplace posterior's round is the last: its index is the uninterrupted run's rounds − 1
  const last = (): number =>
    JSON.parse(readFileSync(join(tmp, "l96-ref", "result.json"), "utf8")).environment.rounds - 1;
  it.each([
    ["during a member block's evaluate", () => "evaluate:3"],
    ["during a reduce", () => "reduce:4"],
    ["during the Laplace posterior's evaluate", () => `evaluate:${last()}`],
    ["during the Laplace posterior's reduce", () => `reduce:${last()}`],
  ])("killed %s, it finishes with the uninterrupted run's θ and posterior, bit for bit", (_what, point) => {
    const job = JSON.parse(readFileSync(join(root, "examples", "lorenz96.json"), "utf8"));
    writeFileSync(
      join(tmp, "l96.json"),
      JSON.stringify({
        ...job,
        problem: { ...job.problem, forward: { ...job.problem.forward, spinup: 200, steps: 600 } },
        stop: { maxIterations: 8 },
        compute: { memberBlocks: 3 },
      }),
    );
    const ref = join(tmp, "l96-ref");
    if (!existsSync(join(ref, "theta.npy"))) expect(enkf(["run", "l96.json", "--out", ref, "--quiet"]).code).toBe(0);
    const crashAt = point();
    const dir = join(tmp, `l96-crash-${crashAt.replace(/[^a-z0-9]/gi, "-")}`);
    const killed = enkf(["run", "l96.json", "--out", dir, "--quiet"], { ENKF_CRASH_AT: crashAt });
    expect(killed.signal).toBe("SIGKILL");
    const resumed = enkf(["resume", dir]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(readFileSync(join(dir, "theta.npy")).equals(readFileSync(join(ref, "theta.npy")))).toBe(true);
    const result = JSON.parse(readFileSync(join(dir, "result.json"), "utf8"));
    expect(result.iterations).toBe(8);
    const reference = JSON.parse(readFileSync(join(ref, "result.json"), "utf8"));
    expect(result.parameters).toEqual(reference.parameters);
    expect(result.posterior).toEqual(reference.posterior);
    expect(result.posterior.draws).toBe(1);
  });
});

describe("idempotent steps and checked partials", () => {
  /** `keepRounds`: the reducer leaves the round's partials in place (to read them back after it) */
  async function prepared(keepRounds = false): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), "resume-steps-"));
    await prepareJob(
      localStore(dir),
      {
        ...spec,
        problem: { ...spec.problem, data: { source: "mnist" } },
        ...(keepRounds ? { compute: { ...spec.compute, keepRounds } } : {}),
      },
      randomClassification(200, 3, 2, 20, 5, 0),
      3,
    );
    return dir;
  }
  /** every file under dir/sub (objects and their checksums), name and bytes */
  const bytes = (dir: string, sub: string) =>
    readdirSync(join(dir, sub), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name))
      .sort()
      .map((f) => `${f}:${readFileSync(f).toString("base64")}`);

  it("rerunning evaluate or reduce for a round writes identical objects", async () => {
    const dir = await prepared();
    const job = { store: dir };
    let cursor = await handlers.init({ job });
    for (let r = 0; r < 3; r++) {
      for (const s of cursor.items) await handlers.evaluate({ job, round: cursor.round, item: s, op: "evaluate" });
      const partials = bytes(dir, `rounds/${String(cursor.round).padStart(6, "0")}`);
      for (const s of cursor.items) await handlers.evaluate({ job, round: cursor.round, item: s, op: "evaluate" });
      expect(bytes(dir, `rounds/${String(cursor.round).padStart(6, "0")}`)).toEqual(partials);
      const next = await handlers.reduce(cursor);
      const state = bytes(dir, "state");
      const plans = bytes(dir, "rounds");
      const again = await handlers.reduce({ ...cursor, startedAt: cursor.startedAt - 5000 });
      expect(bytes(dir, "state")).toEqual(state);
      expect(bytes(dir, "rounds")).toEqual(plans);
      expect(again.round).toBe(next.round);
      cursor = next;
    }
  });

  it("the reducer re-evaluates a corrupt or missing partial instead of using it, and takes the same step", async () => {
    const [a, b] = [await prepared(true), await prepared(true)];
    for (const dir of [a, b]) {
      const job = { store: dir };
      const c = await handlers.init({ job });
      for (const s of c.items) await handlers.evaluate({ job, round: 0, item: s, op: "evaluate" });
    }
    // in b, flip a byte of shard 1's partial (its checksum no longer matches) and delete shard 2's
    const p1 = join(b, keys.partial(0, 1));
    const buf = readFileSync(p1);
    buf[20] ^= 0x40;
    writeFileSync(p1, buf);
    const { rmSync } = await import("node:fs");
    rmSync(join(b, keys.partial(0, 2)));
    for (const dir of [a, b])
      await handlers.reduce({
        job: { store: dir },
        round: 0,
        items: [0, 1, 2],
        done: false,
        branch: "shards",
        rollover: false,
        startRound: 0,
        rolloverEvery: 100,
        startedAt: 0,
      });
    const [ta, tb] = await Promise.all(
      [a, b].map(async (d) => Array.from((await loadState(localStore(d), 1)).process.theta)),
    );
    expect(tb).toEqual(ta);
    // the rewritten partial holds the same statistics (its timings are the new run's)
    const { decodePartial } = await import("../../shared/distributed/partialCodec.ts");
    const [pa, pb] = [a, b].map((d) => decodePartial(new Uint8Array(readFileSync(join(d, keys.partial(0, 1))))));
    expect([pb.phi, Array.from(pb.gram), Array.from(pb.rhs)]).toEqual([
      pa.phi,
      Array.from(pa.gram),
      Array.from(pa.rhs),
    ]);
  });
});

describe("injected faults", () => {
  async function run(faults: string | undefined) {
    const dir = mkdtempSync(join(tmpdir(), "faults-"));
    await prepareJob(
      localStore(dir),
      { ...spec, problem: { ...spec.problem, data: { source: "mnist" } } },
      randomClassification(200, 3, 2, 20, 5, 0),
      3,
    );
    const saved = process.env.ENKF_FAULTS;
    if (faults) process.env.ENKF_FAULTS = faults;
    else delete process.env.ENKF_FAULTS;
    try {
      const out = await runLocalWorkflow({ job: { store: dir } }).catch((e: Error) => ({
        error: e.message,
        faults: -1,
      }));
      return { dir, out };
    } finally {
      if (saved === undefined) delete process.env.ENKF_FAULTS;
      else process.env.ENKF_FAULTS = saved;
    }
  }

  it("transient evaluate failures at p = 0.3 are retried by the state machine and change nothing", async () => {
    const clean = await run(undefined);
    const faulty = await run("evaluate=0.3,seed=11");
    expect("faults" in faulty.out && faulty.out.faults).toBeGreaterThan(5);
    expect(readFileSync(join(faulty.dir, "theta.npy")).equals(readFileSync(join(clean.dir, "theta.npy")))).toBe(true);
  });

  it("a permanent failure ends the job as failed with a clear message, keeping the completed iterations", async () => {
    const { dir, out } = await run("evaluate=permanent@4");
    expect("error" in out && out.error).toMatch(/JobFailed|failure/);
    const failure = JSON.parse(readFileSync(join(dir, "failure.json"), "utf8"));
    expect(failure.status).toBe("failed");
    expect(failure.error).toBe("InjectedFault");
    expect(failure.cause).toMatch(/injected permanent fault: round 4/);
    expect(existsSync(join(dir, keys.state(4)))).toBe(true);
    expect(existsSync(join(dir, "result.json"))).toBe(false);
  });
});
