// Large ensembles through the state machine: the reduction tree (7 shards, fan-in 2: levels of 4
// and 2 nodes, then the reducer reads 2) runs as the deployed definition's Combine states on the
// local engine, agrees with the single reducer to rounding and with itself bit for bit; a round's
// statistics are pruned once the next round is committed; float32 partials halve the bytes and
// move θ by rounding only.
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runLocalWorkflow } from "../../local/engine.ts";
import { decodeNpyFloat64 } from "../../shared/formats/npy.ts";
import { partialBytes } from "../../shared/distributed/partialCodec.ts";
import { localStore } from "../../shared/store/localStore.ts";
import { prepareJob } from "../../shared/workflow/shardJob.ts";
import { randomClassification, relDiff, smallMlpJob } from "../support/synthetic.ts";

const ds = randomClassification(350, 5, 3, 20, 31, 0);
const K = 12;
const SHARDS = 7;
const spec = (compute: object, iterations = 6) =>
  smallMlpJob(
    "tree",
    {
      ensembleSize: K,
      sigma: { schedule: "adaptive", initial: 0.05 },
      gamma: { relative: 1e-3 },
      batchSize: 140,
      stepSize: 4,
    },
    iterations,
    { backend: "reference", ...compute },
  );

/** Files (recursively) under a directory, as paths relative to it. */
const files = (dir: string, at = ""): string[] =>
  readdirSync(join(dir, at), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(dir, join(at, e.name)) : [join(at, e.name)],
  );

async function run(compute: object, watch?: (dir: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), "tree-"));
  await prepareJob(localStore(dir), spec(compute), ds, SHARDS);
  const states: string[] = [];
  const out = await runLocalWorkflow({
    job: { store: dir },
    workers: 2,
    onEvent: (e) => {
      if (e.type === "StateEntered" && e.state?.name) states.push(e.state.name);
      if (e.type === "StateExited" && e.state?.name === "Reduce") watch?.(dir);
    },
  });
  expect(out.status).toBe("max_iterations");
  const rounds = JSON.parse(readFileSync(join(dir, "result.json"), "utf8")).environment.rounds as number;
  return { dir, states, rounds, theta: decodeNpyFloat64(readFileSync(join(dir, "theta.npy"))) };
}

describe("the reduction tree on the local state machine", () => {
  it("sums 7 shards in two levels of combine tasks: the single reducer's θ to rounding, its own bitwise", async () => {
    const single = await run({ shards: SHARDS });
    const tree = await run({ shards: SHARDS, reduceFanIn: 2 });
    const again = await run({ shards: SHARDS, reduceFanIn: 2 });
    // no tree without a fan-in below the shards; with fan-in 2: 4 + 2 combine tasks every round
    expect(single.states.filter((s) => s === "Sum partials")).toHaveLength(0);
    expect(tree.states.filter((s) => s === "Combine level")).toHaveLength(2 * tree.rounds);
    expect(tree.states.filter((s) => s === "Sum partials")).toHaveLength(6 * tree.rounds);
    expect(tree.rounds).toBe(single.rounds);
    expect(relDiff(tree.theta, single.theta)).toBeLessThan(1e-10);
    expect(Array.from(again.theta)).toEqual(Array.from(tree.theta));
  });

  it("keeps at most two rounds of statistics while it runs, and only its results and final state after", async () => {
    let most = 0;
    const { dir } = await run({ shards: SHARDS, reduceFanIn: 2 }, (d) => {
      const rounds = new Set(files(join(d, "rounds")).map((f) => f.split("/")[0]));
      most = Math.max(most, rounds.size);
    });
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(2);
    const left = files(dir).filter((f) => f.startsWith("rounds/") || f.startsWith("state/"));
    expect(left.filter((f) => !f.endsWith(".sha256"))).toHaveLength(1);
  });

  it("writes float32 partials at half the Gram's bytes, with θ moved by rounding only", async () => {
    const wide = await run({ shards: SHARDS, keepRounds: true });
    const narrow = await run({ shards: SHARDS, keepRounds: true, partialPrecision: "float32" });
    const size = (d: string) => statSync(join(d, "rounds", "000001", "partials", "000000.bin")).size;
    expect(size(wide.dir)).toBe(partialBytes(K, "float64", 5));
    expect(size(narrow.dir)).toBe(partialBytes(K, "float32", 5));
    expect(relDiff(narrow.theta, wide.theta)).toBeLessThan(1e-4);
    expect(relDiff(narrow.theta, wide.theta)).toBeGreaterThan(0);
  });
});
