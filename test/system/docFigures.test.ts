// The figures the docs print come from the commands, so they cannot drift again: the paragraph of
// docs/running.md that quotes `enkf plan examples/mnist-mlp.json --shards 8 --memory 1769` is
// parsed and compared with the command's own answer (rounds, invocations and transitions exactly,
// dollars and GB-seconds, which this machine's timing decides, within a factor of two). npm start's
// job is bounded by iterations, as the README says. The limits the docs state are the ones the
// schema enforces.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO, runCli } from "../support/cli.ts";
import { LIMITS } from "../../shared/spec/limits.ts";

const number = (s: string) => Number(s.replace(/,/g, ""));

describe("figures in the docs", () => {
  it("docs/running.md quotes enkf plan's estimate for mnist-mlp as the command gives it", () => {
    const doc = readFileSync(join(REPO, "docs", "running.md"), "utf8");
    const quote = [
      /`enkf plan examples\/mnist-mlp\.json --shards 8 --memory 1769`:\s+([\d,]+) rounds[^,]*, /,
      /([\d,]+) Lambda invocations, ([\d,]+) GB-s[^,]*,\s+([\d,]+) state transitions and about \$([\d.]+)/,
    ];
    const m = new RegExp(quote.map((r) => r.source).join("")).exec(doc);
    expect(m, "the paragraph quoting the plan").not.toBeNull();
    const r = runCli(["plan", "examples/mnist-mlp.json", "--shards", "8", "--memory", "1769", "--json"], {
      cwd: REPO,
      timeout: 300_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const e = JSON.parse(r.stdout) as {
      rounds: number;
      lambda: { invocations: number; gbSeconds: number };
      stepFunctions: { transitions: number };
      dollars: number;
    };
    expect([number(m![1]), number(m![2]), number(m![4])]).toEqual([
      e.rounds,
      e.lambda.invocations,
      e.stepFunctions.transitions,
    ]);
    for (const [quoted, now] of [
      [number(m![3]), e.lambda.gbSeconds],
      [number(m![5]), e.dollars],
    ]) {
      expect(now / quoted).toBeGreaterThan(0.5);
      expect(now / quoted).toBeLessThan(2);
    }
  });

  it("npm start's job is bounded by iterations, not time, so its result is the same on any machine", () => {
    const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { scripts: { start: string } };
    const file = /enkf\.js run (\S+)/.exec(pkg.scripts.start)![1];
    const job = JSON.parse(readFileSync(join(REPO, file), "utf8")) as {
      stop: { maxIterations: number; timeLimit?: number };
    };
    expect(job.stop.timeLimit).toBeUndefined();
    expect(readFileSync(join(REPO, "README.md"), "utf8")).toContain(
      `${job.stop.maxIterations} iterations, test accuracy 0.942`,
    );
  });

  it("states one limit on K, the one runs enforce", () => {
    const format = readFileSync(join(REPO, "docs", "job-format.md"), "utf8");
    for (const line of format.split("\n").filter((l) => l.startsWith("| `ensembleSize`")))
      expect(line).toContain(`≤ ${LIMITS.ensembleSize}`);
    expect(readFileSync(join(REPO, "docs", "reliability.md"), "utf8")).toMatch(/K ≤ 4,096/);
  });
});
