// Model selection on the validation split (issue 14): on a job that overfits (noisy labels, a wide
// network, an undamped Gauss–Newton step), the best θ by the validation loss beats the last θ on
// the test split; the choice never looks at the test split (scrambling the test labels changes
// nothing but the test metrics); early stopping ends the run; the workflow chooses as enkf run does.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeShardDirectory } from "../../shared/data/shardDirectory.ts";
import { encodeShards } from "../../shared/data/shards.ts";
import type { Dataset } from "../../shared/data/types.ts";
import { decodeNpyFloat64 } from "../../shared/formats/npy.ts";
import { fillGaussian, fillUniform, Stream } from "../../shared/math/rng.ts";
import { runCli } from "../support/cli.ts";

const tmp = mkdtempSync(join(tmpdir(), "enkf-selection-"));

/** Two overlapping Gaussian blobs in 2-D with 25% of the labels flipped; train, validation and test given. */
function noisyBlobs(rows: number, seed: number): { x: Float32Array; labels: Int32Array } {
  const z = new Float64Array(rows * 2),
    u = new Float64Array(2 * rows);
  fillGaussian(z, { seed, stream: Stream.data, iteration: 0, member: 0 });
  fillUniform(u, { seed, stream: Stream.data, iteration: 0, member: 1 });
  const x = new Float32Array(rows * 2),
    labels = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const c = u[i] < 0.5 ? 0 : 1;
    x[2 * i] = z[2 * i] + (c ? 0.8 : -0.8);
    x[2 * i + 1] = z[2 * i + 1];
    labels[i] = u[rows + i] < 0.25 ? 1 - c : c;
  }
  return { x, labels };
}

function dataset(flipTest: boolean): Dataset {
  const part = (rows: number, seed: number, flip = false) => {
    const s = noisyBlobs(rows, seed);
    return { x: s.x, labels: flip ? s.labels.map((l) => 1 - l) : s.labels, rows };
  };
  return {
    kind: "classification",
    features: 2,
    outputs: 2,
    names: ["a", "b"],
    train: part(120, 1),
    validation: part(200, 2),
    test: part(400, 3, flipTest),
  };
}

async function job(name: string, flipTest: boolean, stop: Record<string, unknown>): Promise<string> {
  const dir = join(tmp, `${name}-data`);
  await writeShardDirectory(dir, encodeShards(dataset(flipTest), 2));
  const file = join(tmp, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      name,
      problem: {
        type: "classification",
        data: { source: "shards", path: `${name}-data` },
        model: { type: "mlp", hidden: [48] },
      },
      optimizer: { method: "modified-enkf", ensembleSize: 60, gamma: 1e-10, seed: 2 },
      stop: { maxIterations: 150, evaluateEvery: 5, ...stop },
    }),
  );
  return file;
}

interface Result {
  status: string;
  iterations: number;
  metrics: Record<string, number>;
  best?: { iteration: number; metrics: Record<string, number> };
  last?: { iteration: number; metrics: Record<string, number> };
  history: { iteration: number; evaluation?: Record<string, number> }[];
}

function run(
  file: string,
  out: string,
  extra: string[] = [],
): { result: Result; theta: Float64Array; last: Float64Array | null } {
  const r = runCli(["run", file, "--quiet", ...extra, ...(extra.includes("--store") ? [] : ["--out", out])], {
    timeout: 240_000,
  });
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const result = JSON.parse(readFileSync(join(out, "result.json"), "utf8")) as Result;
  const read = (f: string) => decodeNpyFloat64(readFileSync(join(out, f)));
  return { result, theta: read("theta.npy"), last: result.last ? read("theta-last.npy") : null };
}

describe("the best θ by the validation split", () => {
  it("beats the last θ on an overfitting job, and is chosen without the test split", async () => {
    const a = run(await job("overfit", false, { earlyStopping: false }), join(tmp, "a"));
    const { best, last } = a.result;
    expect(a.result.iterations).toBe(150);
    expect(best && last).toBeTruthy();
    // it overfits: the last θ fits the training rows better and the test rows worse
    expect(last!.metrics.trainLoss).toBeLessThan(best!.metrics.trainLoss);
    expect(best!.metrics.testAccuracy).toBeGreaterThan(last!.metrics.testAccuracy);
    // theta.npy is the best θ and result.metrics are its metrics; theta-last.npy the last one
    expect(a.result.metrics).toEqual(best!.metrics);
    expect(a.theta).not.toEqual(a.last);
    // the choice is the validation loss's minimum over the evaluations the history records
    const evals = a.result.history.filter((h) => h.evaluation);
    expect(evals).toHaveLength(30);
    const argmin = evals.reduce((m, h) => (h.evaluation!.validationLoss < m.evaluation!.validationLoss ? h : m));
    expect(best!.iteration).toBe(argmin.iteration);
    // the test split never chose: with its labels flipped, the same θ, test accuracy 1 − a
    const b = run(await job("flipped", true, { earlyStopping: false }), join(tmp, "b"));
    expect(b.result.best!.iteration).toBe(best!.iteration);
    expect(b.theta).toEqual(a.theta);
    expect(b.result.best!.metrics.testAccuracy).toBeCloseTo(1 - best!.metrics.testAccuracy, 10);
  }, 300_000);

  it("stops early, and the workflow chooses the same iteration as enkf run", async () => {
    const file = await job("early", false, { earlyStopping: { patience: 4 } });
    const inProcess = run(file, join(tmp, "c"));
    expect(inProcess.result.status).toBe("early_stopped");
    const bestIt = inProcess.result.best!.iteration;
    // four evaluations without an improvement after the best one
    expect(inProcess.result.iterations).toBe(bestIt + 4 * 5);
    const store = join(tmp, "d");
    const workflow = run(file, store, ["--store", store]);
    expect(workflow.result.status).toBe("early_stopped");
    expect(workflow.result.best!.iteration).toBe(bestIt);
    expect(workflow.result.iterations).toBe(inProcess.result.iterations);
    expect(workflow.result.best!.metrics.validationLoss).toBeCloseTo(inProcess.result.best!.metrics.validationLoss, 4);
  }, 300_000);

  it(
    "the discrepancy principle stops a least-squares fit once the misfit reaches the noise " +
      "level, in process and through the workflow",
    () => {
      // t = sin(x1) + x2/2 + noise of level η = 0.1
      const eta = 0.1,
        n = 240;
      const z = new Float64Array(3 * n);
      fillGaussian(z, { seed: 4, stream: Stream.data, iteration: 0, member: 0 });
      const lines = ["x1,x2,t"];
      for (let i = 0; i < n; i++)
        lines.push(`${z[3 * i]},${z[3 * i + 1]},${Math.sin(z[3 * i]) + z[3 * i + 1] / 2 + eta * z[3 * i + 2]}`);
      writeFileSync(join(tmp, "noisy.csv"), lines.join("\n") + "\n");
      const spec = (discrepancy: boolean) => ({
        name: "noisy",
        problem: {
          type: "regression",
          data: { source: "csv", path: "noisy.csv", label: "t" },
          model: { type: "mlp", hidden: [16] },
        },
        optimizer: { method: "modified-enkf", ensembleSize: 30 },
        stop: { maxIterations: 300, earlyStopping: false, ...(discrepancy ? { discrepancy: { noise: eta } } : {}) },
      });
      writeFileSync(join(tmp, "noisy.json"), JSON.stringify(spec(true)));
      writeFileSync(join(tmp, "noisy-free.json"), JSON.stringify(spec(false)));
      const stopped = run(join(tmp, "noisy.json"), join(tmp, "e")).result;
      expect(stopped.status).toBe("converged");
      const history = stopped.history as unknown as { objective: number }[];
      const level = 0.5 * eta * eta;
      // the first iteration at the noise level ends it
      expect(history[history.length - 1].objective).toBeLessThanOrEqual(level);
      expect(history.slice(0, -1).every((h) => h.objective > level)).toBe(true);
      const free = run(join(tmp, "noisy-free.json"), join(tmp, "f")).result;
      expect(free.iterations).toBeGreaterThan(stopped.iterations);
      const store = join(tmp, "g");
      const workflow = run(join(tmp, "noisy.json"), store, ["--store", store]).result;
      expect(workflow.status).toBe("converged");
      expect(workflow.iterations).toBe(stopped.iterations);
    },
    300_000,
  );
});
