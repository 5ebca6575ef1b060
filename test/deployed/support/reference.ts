// What the deployed-artifacts stage compares against: `enkf run` of the same job on this machine
// (the real command, in its own process), and polling the `api` function until a job ends.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../support/cli.ts";
import { until } from "../../support/wait.ts";
import type { Stage } from "./stage.ts";

/** θ (the .npy bytes) and result.json of `enkf run` of `spec`. */
export function enkfRun(spec: object): {
  theta: Buffer;
  result: { status: string; message?: string; metrics?: Record<string, number>; posterior?: unknown };
} {
  const dir = mkdtempSync(join(tmpdir(), "enkf-deployed-run-"));
  writeFileSync(join(dir, "job.json"), JSON.stringify(spec));
  const r = runCli(["run", join(dir, "job.json"), "--out", join(dir, "out"), "--quiet"], { timeout: 240_000 });
  if (r.code !== 0) throw new Error(`enkf run exited ${r.code}:\n${r.stderr}`);
  return {
    theta: readFileSync(join(dir, "out", "theta.npy")),
    result: JSON.parse(readFileSync(join(dir, "out", "result.json"), "utf8")),
  };
}

const ENDED = new Set(["succeeded", "failed", "cancelled"]);

/** GET /jobs/{id} through the `api` function until the job has ended; its view. */
export async function ended(stage: Stage, id: string, ms = 240_000) {
  return until(
    `job ${id} to end`,
    async () => {
      const r = await stage.api("GET", `/jobs/${id}`);
      if (r.status !== 200) throw new Error(`GET /jobs/${id}: ${r.status} ${JSON.stringify(r.body)}`);
      return ENDED.has(r.body.status) ? r.body : undefined;
    },
    ms,
  );
}

/** POST /jobs through the `api` function; the job's id. */
export async function submit(stage: Stage, spec: object): Promise<string> {
  const r = await stage.api("POST", "/jobs", { json: spec });
  if (r.status !== 202) throw new Error(`POST /jobs: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.id as string;
}
