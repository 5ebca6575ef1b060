// Admission control of enkf serve, over real HTTP: --max-jobs holds however many submit at once
// (its place is taken before the first await); a job whose estimated peak memory is over the
// budget is refused naming the memory and the budget; a dry run is counted against --max-jobs and
// calibrates on a thread of its own, bounded in time, while the server keeps answering.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultMemoryMb, startLocalServer, type LocalServer } from "../../local/server.ts";
import { loadMnist } from "../../shared/data/mnist.ts";
import { datasetBytes, jobMemory } from "../../shared/plan/memory.ts";
import { apiClient, signsCsv } from "../support/api.ts";

const TOKEN = "admission-test-token-0123456789";
const tmp = mkdtempSync(join(tmpdir(), "admission-"));

async function withServer<T>(
  opts: Partial<Parameters<typeof startLocalServer>[0]>,
  fn: (call: ReturnType<typeof apiClient>, s: LocalServer) => Promise<T>,
): Promise<T> {
  const server = await startLocalServer({
    location: mkdtempSync(join(tmp, "svc-")),
    port: 0,
    token: TOKEN,
    workers: 1,
    ...opts,
  });
  try {
    return await fn(
      apiClient(() => server.url, TOKEN),
      server,
    );
  } finally {
    await server.close();
  }
}

const job = (name: string, extra: object = {}) => ({
  name,
  problem: {
    type: "classification",
    data: { source: "dataset", name: "signs" },
    model: { type: "mlp", hidden: [4] },
    seed: 1,
  },
  optimizer: { ensembleSize: 6, seed: 2 },
  stop: { maxIterations: 100_000 },
  compute: { shards: 1 },
  ...extra,
});
const wide = {
  name: "wide",
  problem: { type: "classification", data: { source: "mnist" }, model: { type: "mlp", hidden: [6000, 6000] } },
  optimizer: { ensembleSize: 2 },
  stop: { maxIterations: 1 },
};

describe("admission control", () => {
  it("--max-jobs 2 with 20 concurrent submits: exactly 2 accepted, the rest 429", async () => {
    await withServer({ maxJobs: 2 }, async (call) => {
      expect((await call("POST", "/datasets/signs/versions?label=y", { csv: signsCsv(200, 1) })).status).toBe(201);
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => call("POST", "/jobs", { json: job(`j${i}`) })),
      );
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses.filter((s) => s === 202)).toHaveLength(2);
      expect(statuses.filter((s) => s === 429)).toHaveLength(18);
      expect(answers.find((a) => a.status === 429)!.body.error.code).toBe("too_many_jobs");
      // a refused submission leaves no job behind
      expect((await call("GET", "/jobs?limit=100")).body.jobs).toHaveLength(2);
    });
  });

  it("refuses the [6000, 6000] job over the memory budget, naming what it needs and the budget", async () => {
    await withServer({ memoryMb: 4096 }, async (call) => {
      const r = await call("POST", "/jobs", { json: wide });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe("over_memory_budget");
      expect(r.body.error.message).toMatch(/would need about \d+\.\d GiB of memory at its peak /);
      expect(r.body.error.message).toMatch(/over this server's budget of 4\.0 GiB \(enkf serve --memory\)/);
      expect(r.body.error.details.map((d: { path: string }) => d.path)).toEqual([
        "problem.model",
        "optimizer.ensembleSize",
        "optimizer.batchSize",
      ]);
    });
    // the default budget, a quarter of this machine's memory, refuses it too wherever it is below the estimate
    const mnist = loadMnist();
    const est = jobMemory({
      model: { type: "mlp", inputs: 784, hidden: [6000, 6000], outputs: 10, activation: "tanh" },
      ensembleSize: 2,
      batchRows: mnist.train.rows,
      shards: 4,
      workers: 2,
      dataBytes: datasetBytes(mnist),
    });
    expect(est.bytes).toBeGreaterThan(7.9e9); // what one iteration was measured to peak at under enkf serve
    if (defaultMemoryMb() * 2 ** 20 < est.bytes)
      await withServer({}, async (call) => expect((await call("POST", "/jobs", { json: wide })).status).toBe(400));
  });

  it("a dry run takes a place under --max-jobs and calibrates off the event loop, bounded in time", async () => {
    await withServer({ maxJobs: 1 }, async (call) => {
      expect((await call("POST", "/datasets/signs/versions?label=y", { csv: signsCsv(200, 1) })).status).toBe(201);
      const dry = call("POST", "/jobs?dryRun=true", {
        json: job("dry", { optimizer: { ensembleSize: 1500, seed: 2 }, stop: { maxIterations: 20 } }),
      });
      // while it calibrates: its place is taken, and other requests are answered at once
      await new Promise((r) => setTimeout(r, 300));
      const slowest: number[] = [];
      let busy = 0;
      for (let i = 0; i < 10; i++) {
        const t = performance.now();
        const r = await call("POST", "/jobs", { json: job(`while-${i}`) });
        slowest.push(performance.now() - t);
        if (r.status === 429) busy++;
        else expect(r.status).toBe(202); // the dry run ended meanwhile
        if (r.status === 202) break;
      }
      const answer = await dry;
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(busy).toBeGreaterThan(0);
      expect(Math.max(...slowest)).toBeLessThan(500);
    });
    await withServer({ dryRun: { timeoutMs: 300, heapMb: 512 } }, async (call) => {
      expect((await call("POST", "/datasets/signs/versions?label=y", { csv: signsCsv(200, 1) })).status).toBe(201);
      const r = await call("POST", "/jobs?dryRun=true", {
        json: job("dry", { optimizer: { ensembleSize: 1500, seed: 2 } }),
      });
      expect(r.status).toBe(400);
      expect(r.body.error.message).toMatch(/took longer than 0\.3 s/);
      expect(r.body.error.details[0].path).toBe("dryRun");
    });
  });
});
