// What a workflow round buys: the half-moons example (examples/half-moons.json, every optimizer
// setting default) through the job's state machine takes one round per iteration or little more,
// ends at the in-process θ bit for bit (reference kernel, one shard), and `enkf plan` predicts its
// rounds. Before the line search's ladder went into one round, every backtrack cost a round
// (about 10 rounds per iteration on this job with the old default γ).
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO, runCli } from "../support/cli.ts";

const tmp = mkdtempSync(join(tmpdir(), "rounds-"));
mkdirSync(join(tmp, "data"));
copyFileSync(join(REPO, "examples", "data", "half-moons.csv"), join(tmp, "data", "half-moons.csv"));
const example = JSON.parse(readFileSync(join(REPO, "examples", "half-moons.json"), "utf8"));
const ITERATIONS = 120;
const job = (compute: object) => ({
  ...example,
  stop: { maxIterations: ITERATIONS },
  compute: { backend: "reference", ...compute },
});
const enkf = (args: string[]) => runCli(args, { cwd: tmp, timeout: 300_000 });

describe("the half-moons job through the state machine", () => {
  it(
    "takes at most 1.3 rounds per iteration, ends at the in-process θ, and enkf plan predicts " +
      "its rounds within 25%",
    () => {
      writeFileSync(join(tmp, "inprocess.json"), JSON.stringify(job({})));
      writeFileSync(join(tmp, "workflow.json"), JSON.stringify(job({ shards: 1 })));
      const a = enkf(["run", "inprocess.json", "--out", "a", "--quiet"]);
      expect(a.code, a.stderr).toBe(0);
      const b = enkf(["run", "workflow.json", "--out", "b", "--quiet"]);
      expect(b.code, b.stderr).toBe(0);
      const result = JSON.parse(readFileSync(join(tmp, "b", "result.json"), "utf8"));
      expect(result.iterations).toBe(ITERATIONS);
      const rounds: number = result.environment.rounds;
      expect(rounds / ITERATIONS).toBeLessThanOrEqual(1.3);
      expect(readFileSync(join(tmp, "b", "theta.npy")).equals(readFileSync(join(tmp, "a", "theta.npy")))).toBe(true);
      const plan = enkf(["plan", "workflow.json", "--json"]);
      expect(plan.code, plan.stderr).toBe(0);
      const predicted: number = JSON.parse(plan.stdout).rounds;
      expect(Math.abs(predicted - rounds) / rounds).toBeLessThanOrEqual(0.25);
    },
    300_000,
  );
});
