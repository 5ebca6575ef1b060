// What a new user tripped on (issue 26), each through the real command or over real HTTP: the
// install path from outside the checkout; a closed pipe; a CNN on tabular data (exit 2 naming
// problem.model.input); enkf plan's --shards for an inverse job and its words for the line
// search; one line for a usage error; the state machine's "wrote" line; the HTTP wording of
// schedule and upload errors.

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startLocalServer } from "../../local/server.ts";
import { apiClient, signsCsv } from "../support/api.ts";
import { ENKF_BIN, REPO, runCli } from "../support/cli.ts";

const tmp = mkdtempSync(join(tmpdir(), "new-user-"));
const table =
  "a,b,c,d,e,f,g,h,y\n" +
  Array.from(
    { length: 60 },
    (_, i) => `${Array.from({ length: 8 }, (_, j) => ((i * 7 + j * 3) % 11) / 10).join(",")},${i % 2}`,
  ).join("\n") +
  "\n";
writeFileSync(join(tmp, "t.csv"), table);
const tabularCnn = {
  name: "cnn8",
  problem: {
    type: "classification",
    data: { source: "csv", path: "t.csv", label: "y" },
    model: { type: "cnn", channels: [4] },
  },
  optimizer: { ensembleSize: 4 },
  stop: { maxIterations: 2 },
};

describe("the command line, as a new user meets it", () => {
  it("installs from the checkout and runs from a folder outside it; the docs say enkf, not npx enkf", () => {
    const prefix = join(tmp, "prefix"),
      outside = mkdtempSync(join(tmpdir(), "outside-"));
    const install = spawnSyncNpm(["install", "-g", "--prefix", prefix, REPO]);
    expect(install.status, install.stderr).toBe(0);
    const enkf = (args: string[]) => spawnSyncCmd(join(prefix, "bin", "enkf"), args, outside);
    const help = enkf(["help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: enkf <command>/);
    writeFileSync(
      join(outside, "job.json"),
      JSON.stringify({
        name: "q",
        problem: { type: "quadratic", dimension: 4 },
        optimizer: { method: "modified-enkf", ensembleSize: 4 },
        stop: { maxIterations: 5 },
      }),
    );
    const run = enkf(["run", "job.json", "--out", "r", "--quiet"]);
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(outside, "r", "result.json"), "utf8")).iterations).toBe(5);
    for (const doc of ["README.md", "docs/running.md", "docs/http-api.md", "docs/aws.md", "docs/writing-jobs.md"]) {
      const text = readFileSync(join(REPO, doc), "utf8");
      const told = text
        .split("\n")
        .filter((l) => /npx enkf/.test(l) && !/Inside the checkout, `npx enkf`|outside, `npx enkf`/.test(l));
      expect(told, doc).toEqual([]);
    }
  });

  it("ends quietly when the reader closes the pipe", async () => {
    for (const args of [["schema"], ["help"]]) {
      const child = spawn(process.execPath, [ENKF_BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
      let err = "";
      child.stderr.on("data", (b: Buffer) => {
        err += b.toString();
      });
      child.stdout.once("data", () => child.stdout.destroy());
      const code = await new Promise<number | null>((r) => child.once("close", r));
      expect(err, args.join(" ")).not.toMatch(/EPIPE|Unhandled|at /);
      expect(code).toBe(0);
    }
  });

  it("a CNN on tabular data is an invalid job (exit 2) naming problem.model.input, before any work", () => {
    writeFileSync(join(tmp, "cnn8.json"), JSON.stringify(tabularCnn));
    for (const command of ["run", "plan"]) {
      const r = runCli([command, "cnn8.json", ...(command === "run" ? ["--out", "o"] : [])], { cwd: tmp });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(
        /problem\.model\.input: a CNN reads images: the data's 8 features are not a square image/,
      );
    }
  });

  it("enkf plan reads --shards as an inverse job's member blocks, and says so", () => {
    const r = runCli(["plan", "examples/lorenz96.json", "--shards", "4", "--json"], { cwd: REPO });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /--shards 4 for an inverse job means its member blocks: planning with compute\.memberBlocks = 4/,
    );
    expect(JSON.parse(r.stdout).memberBlocks).toBe(4);
    expect(JSON.parse(r.stdout).aws.assumptions.join(" ")).toMatch(
      /the line search's points are among the forward evaluations the pilot counted/,
    );
  });

  it("enkf plan describes the line search as the job has it", () => {
    const job = (lineSearch: boolean) => ({
      name: `ls-${lineSearch}`,
      problem: {
        type: "classification",
        data: { source: "csv", path: "t.csv", label: "y" },
        model: { type: "mlp", hidden: [3] },
      },
      optimizer: { ensembleSize: 4, lineSearch },
      stop: { maxIterations: 3 },
    });
    for (const ls of [true, false]) {
      writeFileSync(join(tmp, `ls-${ls}.json`), JSON.stringify(job(ls)));
      const r = runCli(["plan", `ls-${ls}.json`, "--shards", "2"], { cwd: tmp });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(
        ls
          ? /the whole line-search ladder \(9 rungs: the step and up to 8 backtracks/
          : /with the line search off, a round also evaluates Φ at the step's point \(one single-member forward/,
      );
      expect(r.stdout).not.toMatch(/\b[01] rungs/);
    }
  });

  it("a usage error is one line pointing at --help", () => {
    for (const args of [["run"], ["run", "--bogus", "x.json"], ["frobnicate"], []]) {
      const r = runCli(args, { cwd: tmp });
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
      expect(r.stderr).toMatch(/see enkf( \w+)? --help/);
      expect(r.stdout).toBe("");
    }
  });

  it("a run through the state machine names model.json among the files it wrote", () => {
    writeFileSync(
      join(tmp, "sm.json"),
      JSON.stringify({
        name: "sm",
        problem: {
          type: "classification",
          data: { source: "csv", path: "t.csv", label: "y" },
          model: { type: "mlp", hidden: [3] },
        },
        optimizer: { ensembleSize: 4 },
        stop: { maxIterations: 2 },
        compute: { shards: 2 },
      }),
    );
    const r = runCli(["run", "sm.json", "--out", "sm-out"], { cwd: tmp });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrote .*\{result\.json,theta\.npy,(theta-last\.npy,)?model\.json,history\.csv,plots\/\}/);
  });
});

describe("the HTTP API's wording", () => {
  it(
    "names a schedule's own fields as the schedule's, its template's under template., and says " +
      "what an upload lacks",
    async () => {
      const token = "new-user-test-token-0123456789";
      const server = await startLocalServer({ location: join(tmp, "svc"), port: 0, token, workers: 1 });
      try {
        const call = apiClient(() => server.url, token);
        const template = {
          name: "t",
          problem: {
            type: "classification",
            data: { source: "dataset", name: "nope" },
            model: { type: "mlp", hidden: [3] },
          },
          optimizer: { ensembleSize: 4 },
        };
        const typo = await call("POST", "/schedules", {
          json: { name: "s", expression: "rate(1 day)", template, promote: { model: "m", modl: "x" } },
        });
        expect(typo.status).toBe(400);
        expect(typo.body.error.details).toContainEqual({
          path: "promote.modl",
          message: "unknown key (not part of a schedule's promotion rule)",
        });
        const unknownData = await call("POST", "/schedules", {
          json: { name: "s", expression: "rate(1 day)", template },
        });
        expect(unknownData.status).toBe(400);
        expect(unknownData.body.error.details[0].path).toBe("template.problem.data.name");
        const cnn = { ...template, problem: { ...tabularCnn.problem, data: { source: "dataset", name: "tab" } } };
        expect((await call("POST", "/datasets/tab/versions?label=y", { csv: signsCsv(60, 1) })).status).toBe(201);
        const badModel = await call("POST", "/jobs", { json: cnn });
        expect(badModel.status).toBe(400);
        expect(badModel.body.error.details[0].path).toBe("problem.model.input");
        const noLabel = await call("POST", "/datasets?name=x", { csv: "a,b\n1,2\n" });
        expect(noLabel.status).toBe(400);
        expect(noLabel.body.error.details).toContainEqual({
          path: "label",
          message: "required: the name of the label column (?label=…)",
        });
      } finally {
        await server.close();
      }
    },
  );
});

function spawnSyncCmd(cmd: string, args: string[], cwd: string) {
  return spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, FORCE_COLOR: "0" }, timeout: 120_000 });
}
function spawnSyncNpm(args: string[]) {
  return spawnSync("npm", args, { encoding: "utf8", timeout: 120_000 });
}
