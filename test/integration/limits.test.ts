// The service's limits are checked before any work, with messages that name the field: in
// `enkf run` (in-process and sharded), and over HTTP (400 naming the field; 429 once `enkf serve`
// holds --max-jobs jobs).
import { runCli } from "../support/cli.ts";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startLocalServer } from "../../local/server.ts";
import { LIMITS, limitProblems } from "../../shared/spec/limits.ts";

const root = join(import.meta.dirname, "..", "..");
const tmp = mkdtempSync(join(tmpdir(), "limits-"));

const enkf = (...args: string[]) => runCli(args, { cwd: tmp });

describe("limits", () => {
  it("each limit names its field and says by how much it is over", () => {
    expect(
      limitProblems({
        ensembleSize: LIMITS.ensembleSize,
        parameters: 1000,
        timeLimit: 3600,
        shards: { count: 4, trainRows: 1000, valuesPerRow: 10 },
      }),
    ).toEqual([]);
    const over = limitProblems({
      ensembleSize: 5000,
      parameters: 60_000_000,
      timeLimit: 40 * 86_400,
      shards: { count: 12_000, trainRows: 20_000, valuesPerRow: 10 },
    });
    expect(over.map((p) => p.path)).toEqual([
      "optimizer.ensembleSize",
      "problem.model",
      "optimizer.ensembleSize",
      "stop.timeLimit",
      "compute.shards",
    ]);
    expect(over[0].message).toMatch(/K = 5000 is over the limit of 4096/);
    const big = limitProblems({ parameters: 100, shards: { count: 2, trainRows: 1_000_000, valuesPerRow: 785 } });
    expect(big[0].message).toMatch(/over the 256 MiB a worker holds; use at least 12 shards/);
    expect(
      limitProblems({ parameters: 100, shards: { count: 50, trainRows: 20, valuesPerRow: 3 } })[0].message,
    ).toMatch(/every shard needs at least one row/);
  });

  it("enkf run refuses a job over a limit before it starts (exit 2), in-process and sharded", () => {
    writeFileSync(
      join(tmp, "d.csv"),
      "a,b,y\n" + Array.from({ length: 30 }, (_, i) => `${i % 5},${i % 3},${i % 2}`).join("\n") + "\n",
    );
    writeFileSync(
      join(tmp, "bigk.json"),
      JSON.stringify({
        name: "bigk",
        problem: { type: "quadratic", dimension: 10 },
        optimizer: { method: "modified-enkf", ensembleSize: 5000 },
      }),
    );
    let r = enkf("run", "bigk.json", "--out", join(tmp, "o1"));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/optimizer\.ensembleSize: over the limit of 4096: the K×K statistics/);
    writeFileSync(
      join(tmp, "shards.json"),
      JSON.stringify({
        name: "shards",
        problem: {
          type: "classification",
          data: { source: "csv", path: "d.csv", label: "y" },
          model: { type: "mlp", hidden: [3] },
        },
        optimizer: { method: "modified-enkf", ensembleSize: 4 },
        stop: { timeLimit: 5_000_000 },
        compute: { shards: 40 },
      }),
    );
    r = enkf("run", "shards.json", "--out", join(tmp, "o2"));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/stop\.timeLimit: 5000000 s is over the limit/);
    expect(r.stderr).toMatch(/compute\.shards: 40 shards for 22 training rows/);
  });

  it("enkf serve answers 400 naming the field, and 429 once --max-jobs jobs are queued or running", async () => {
    const server = await startLocalServer({
      location: join(tmp, "svc"),
      port: 0,
      token: "limits-token-0123456789",
      maxJobs: 1,
      workers: 1,
    });
    try {
      const call = (path: string, body: string, type: string) =>
        fetch(server.url + path, {
          method: "POST",
          headers: { authorization: "Bearer limits-token-0123456789", "content-type": type },
          body,
        });
      const up = (await (
        await call(
          "/datasets?name=d&label=y",
          "a,b,y\n" + Array.from({ length: 60 }, (_, i) => `${i % 7},${i % 3},${i % 2}`).join("\n") + "\n",
          "text/csv",
        )
      ).json()) as { id: string };
      type Err = { error: { code: string; details: { path: string }[] } };
      const job = (extra: object) =>
        JSON.stringify({
          name: "j",
          problem: {
            type: "classification",
            data: { source: "dataset", id: up.id },
            model: { type: "mlp", hidden: [3] },
          },
          optimizer: { method: "modified-enkf", ensembleSize: 4 },
          stop: { maxIterations: 100_000 },
          compute: { shards: 2, backend: "reference" },
          ...extra,
        });
      const bad = await call("/jobs", job({ stop: { timeLimit: 9e6 } }), "application/json");
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as Err).error.details[0].path).toBe("stop.timeLimit");
      expect((await call("/jobs", job({}), "application/json")).status).toBe(202);
      const full = await call("/jobs", job({}), "application/json");
      expect(full.status).toBe(429);
      expect(((await full.json()) as Err).error.code).toBe("too_many_jobs");
    } finally {
      await server.close();
    }
  });
});
