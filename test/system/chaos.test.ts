// The chaos test: 20 small sharded jobs with transient evaluate faults at p = 0.2, three of them
// also SIGKILLed mid-run (the local engine's process) and resumed. Every job completes, with θ
// bitwise equal to its fault-free run.
import { runCli } from "../support/cli.ts";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runLocalWorkflow } from "../../local/engine.ts";
import { loadDataset } from "../../shared/data/load.ts";
import { JobSpec } from "../../shared/spec/job.ts";
import { localStore } from "../../shared/store/localStore.ts";
import { prepareJob } from "../../shared/workflow/shardJob.ts";

const root = join(import.meta.dirname, "..", "..");
const tmp = mkdtempSync(join(tmpdir(), "chaos-"));
const JOBS = 20;
const KILLS: Record<number, string> = { 5: "evaluate:3", 11: "reduce:4", 17: "write:state/000005.bin" };

const spec = (i: number) => ({
  name: `chaos-${i}`,
  problem: {
    type: "classification",
    data: { source: "csv", path: "d.csv", label: "y" },
    model: { type: "mlp", hidden: [4] },
    seed: i,
  },
  optimizer: { method: "modified-enkf", ensembleSize: 6, batchSize: 50, seed: 100 + i },
  stop: { maxIterations: 8 },
  compute: { shards: 3, backend: "reference", maxConcurrency: 3 },
});

const enkf = (args: string[], env: Record<string, string>) => runCli(args, { cwd: tmp, env });

async function inProcess(i: number, faults?: string): Promise<{ theta: Buffer; faults: number }> {
  const dir = join(tmp, `${faults ? "chaos" : "clean"}-${i}`);
  const job = JobSpec.parse(spec(i));
  if (job.problem.type !== "classification") throw new Error("test job");
  await prepareJob(localStore(dir), job, await loadDataset(job.problem.data, "classification", tmp), 3);
  const saved = process.env.ENKF_FAULTS;
  if (faults) process.env.ENKF_FAULTS = faults;
  try {
    const out = await runLocalWorkflow({ job: { store: dir } });
    return { theta: readFileSync(join(dir, "theta.npy")), faults: out.faults };
  } finally {
    if (saved === undefined) delete process.env.ENKF_FAULTS;
    else process.env.ENKF_FAULTS = saved;
  }
}

describe("chaos", () => {
  it(
    "20 jobs with transient faults (p = 0.2) and 3 kills all complete with the fault-free θ, " + "bit for bit",
    async () => {
      let s = 3;
      const r = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
      const lines = ["a,b,y"];
      for (let i = 0; i < 180; i++) {
        const a = r(),
          b = r();
        lines.push(`${a},${b},${a * b > 0 ? 1 : 0}`);
      }
      writeFileSync(join(tmp, "d.csv"), lines.join("\n") + "\n");
      let injected = 0,
        kills = 0;
      for (let i = 0; i < JOBS; i++) {
        const clean = await inProcess(i);
        const faults = `evaluate=0.2,seed=${i}`;
        if (KILLS[i]) {
          writeFileSync(join(tmp, `job-${i}.json`), JSON.stringify(spec(i)));
          const dir = join(tmp, `killed-${i}`);
          const killed = enkf(["run", `job-${i}.json`, "--out", dir, "--quiet"], {
            ENKF_FAULTS: faults,
            ENKF_CRASH_AT: KILLS[i],
          });
          expect(killed.signal, killed.stderr).toBe("SIGKILL");
          kills++;
          const resumed = enkf(["resume", dir, "--quiet"], { ENKF_FAULTS: faults });
          expect(resumed.code, resumed.stderr).toBe(0);
          expect(readFileSync(join(dir, "theta.npy")).equals(clean.theta), `job ${i}`).toBe(true);
        } else {
          const chaotic = await inProcess(i, faults);
          injected += chaotic.faults;
          expect(chaotic.theta.equals(clean.theta), `job ${i}`).toBe(true);
        }
      }
      expect(kills).toBe(3);
      // about 0.2 × (rounds × shards) per job; the Retry healed every one
      expect(injected).toBeGreaterThan(40);
      console.log(
        `chaos: ${JOBS} jobs, ${injected} transient faults injected into the 17 in-process runs, ` +
          `${kills} kills; all θ bitwise equal`,
      );
    },
  );
});
