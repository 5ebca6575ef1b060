// `enkf watch <jobId | runDir> [--url URL] [--data DIR]`: follows a running job until it ends, with
// a progress bar, the latest metrics and an ETA; plain lines when the output is not a terminal.
// A run directory (a job run through the state machine) or a job of `enkf serve`'s data
// directory is read from disk; with --url the job is followed through the HTTP API (token in
// ENKF_TOKEN).

import { readConfig } from "../shared/config.ts";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { finishedStatus, jobProgress } from "../shared/service/jobStatus.ts";
import { Service } from "../shared/service/service.ts";
import { localStore } from "../shared/store/localStore.ts";
import type { JobView } from "../shared/spec/api.ts";
import { CliError, type Io } from "./io.ts";

export interface WatchFlags {
  url?: string;
  data: string;
  /** seconds between polls */
  interval: number;
  quiet: boolean;
}

/** One job's view, from the API or from disk. */
type Poll = () => Promise<JobView>;

function fromApi(url: string, id: string): Poll {
  const token = readConfig().token;
  if (!token) throw new CliError(2, "--url needs the server's token in ENKF_TOKEN");
  return async () => {
    let res: Response;
    try {
      res = await fetch(`${url.replace(/\/+$/, "")}/jobs/${encodeURIComponent(id)}`, {
        headers: { authorization: `Bearer ${token}` },
      });
    } catch (e) {
      throw new CliError(1, `cannot reach ${url}: ${(e as Error).message}`);
    }
    const body = (await res.json().catch(() => null)) as (JobView & { error?: { message: string } }) | null;
    if (!res.ok || !body)
      throw new CliError(res.status === 404 ? 2 : 1, `${url}: ${body?.error?.message ?? `HTTP ${res.status}`}`);
    return body;
  };
}

/** An in-process `enkf run`: its progress.json while it runs, its result.json once done. */
function fromPlainRun(dir: string): Poll {
  const read = async (name: string) => JSON.parse(await readFile(join(dir, name), "utf8"));
  return async () => {
    const id = dir.split(/[\\/]/).pop()!;
    const spec = await read("spec.json");
    const done = existsSync(join(dir, "result.json")) ? await read("result.json") : null;
    const p = done ?? (existsSync(join(dir, "progress.json")) ? await read("progress.json").catch(() => null) : null);
    const last = p?.history?.[p.history.length - 1] ?? {};
    const iteration = done ? done.iterations : (p?.iterations ?? 0);
    const max = spec.stop.maxIterations;
    const status = done ? finishedStatus(done.status) : iteration > 0 ? "running" : "queued";
    const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);
    return {
      id,
      name: spec.name,
      status,
      createdAt: new Date().toISOString(),
      iteration,
      maxIterations: max,
      ...jobProgress(status, iteration, max, last.seconds),
      metrics: {
        objective: num(last.objective),
        batchAccuracy: num(last.batchAccuracy),
        ...(done ? { testAccuracy: num(done.metrics?.testAccuracy) } : {}),
      },
      ...(done ? { message: done.message } : {}),
      links: {},
    } as JobView;
  };
}

function fromDisk(target: string, data: string): Poll {
  // a run directory is a job store on its own; a job id lives in the service's data directory
  const dir = existsSync(target) ? resolve(target) : join(resolve(data), "jobs", target);
  if (!existsSync(join(dir, "spec.json")))
    throw new CliError(2, `no run directory "${target}" and no job "${target}" in ${data} (--data)`);
  if (!existsSync(join(dir, "spec.json.sha256"))) return fromPlainRun(dir);
  const id = dir.split(/[\\/]/).pop()!;
  const service = new Service({
    location: join(dir, ".."),
    engine: { start: async () => undefined, stop: async () => undefined },
    scheduler: { allowSeconds: true, arm: async () => undefined, disarm: async () => undefined },
  });
  const store = localStore(dir);
  return async () => service.jobs.view(id, { store });
}

function bar(fraction: number, width = 30): string {
  const full = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return `[${"#".repeat(full)}${"-".repeat(width - full)}]`;
}

export function watchLine(v: JobView): string {
  const m = v.metrics;
  const parts = [`${v.status.padEnd(9)} ${v.iteration}/${v.maxIterations}`];
  if (m.objective !== null) parts.push(`objective ${m.objective.toExponential(4)}`);
  if (m.batchAccuracy !== null) parts.push(`batch acc ${m.batchAccuracy.toFixed(3)}`);
  if (typeof m.testAccuracy === "number") parts.push(`test acc ${m.testAccuracy.toFixed(4)}`);
  if (v.etaSeconds !== null)
    parts.push(`eta ${v.etaSeconds < 120 ? `${v.etaSeconds.toFixed(0)} s` : `${(v.etaSeconds / 60).toFixed(1)} min`}`);
  return parts.join("  ");
}

export async function watchCommand(target: string, flags: WatchFlags, io: Io): Promise<number> {
  const poll = flags.url ? fromApi(flags.url, target) : fromDisk(target, flags.data);
  const tty = io.stderr.isTTY === true;
  let lastLine = "";
  for (;;) {
    const v = await poll();
    const line = watchLine(v);
    if (!flags.quiet) {
      if (tty) io.stderr.write(`\r\x1b[2K${bar(v.progress)} ${line}`);
      else if (line !== lastLine) io.stderr.write(`${line}\n`);
    }
    lastLine = line;
    if (v.status !== "queued" && v.status !== "running") {
      if (tty && !flags.quiet) io.stderr.write("\n");
      io.stdout.write(`${v.id}: ${v.status}${v.message ? `: ${v.message}` : ""}\n`);
      return v.status === "succeeded" ? 0 : v.status === "cancelled" ? 130 : 1;
    }
    await new Promise((r) => setTimeout(r, flags.interval * 1000));
  }
}
