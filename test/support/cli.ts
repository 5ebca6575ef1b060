// Runs the real `enkf` command (bin/enkf.js) as a child process, the way a user does: the one
// helper every CLI-level test uses.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { join } from "node:path";

export const REPO = join(import.meta.dirname, "..", "..");
export const ENKF_BIN = join(REPO, "bin", "enkf.js");

export interface CliOptions {
  cwd?: string;
  /** added to this process's environment (undefined: removed from it) */
  env?: Record<string, string | undefined>;
  /** milliseconds (default 120 s) */
  timeout?: number;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function environment(env: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: "0", ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete out[k];
  return out;
}

/** Runs `enkf <args>` to its end. */
export function runCli(args: string[], opts: CliOptions = {}): CliResult {
  const r = spawnSync(process.execPath, [ENKF_BIN, ...args], {
    cwd: opts.cwd,
    encoding: "utf8",
    env: environment(opts.env),
    timeout: opts.timeout ?? 120_000,
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `enkf <args>` and returns the child (a server, a run to interrupt). */
export function spawnCli(args: string[], opts: CliOptions & { stdio?: "pipe" | "ignore" } = {}): ChildProcess {
  return spawn(process.execPath, [ENKF_BIN, ...args], {
    cwd: opts.cwd,
    env: environment(opts.env),
    stdio: opts.stdio === "ignore" ? "ignore" : ["ignore", "pipe", "pipe"],
  });
}
