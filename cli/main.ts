// The `enkf` command line: argument parsing and dispatch. Exit codes: 0 ok, 1 runtime failure,
// 2 bad usage or invalid job, 130 interrupted.

import { parseArgs } from "node:util";
import { jobJsonSchema } from "../shared/spec/jsonSchema.ts";
import { CliError, type Io } from "./io.ts";
import { runCommand } from "./runCommand.ts";
import { dataCommand } from "./dataCommand.ts";
import { planCommand } from "./planCommand.ts";
import { watchCommand } from "./watchCommand.ts";
import { reportCommand } from "./reportCommand.ts";
import { resumeCommand } from "./resumeCommand.ts";
import { serveCommand } from "./serveCommand.ts";

const USAGE = `usage: enkf <command> [options]

commands:
  run <job.json> [--out DIR] [--quiet] [--force] [--store LOCATION] [--endpoint URL]
      run a job on this machine; writes result.json, theta.npy, history.csv
      and spec.json into DIR (default runs/<name>-<timestamp>). A job with
      compute.shards, or given --store (a directory or s3://bucket/prefix,
      with --endpoint for S3-compatible servers), runs through the job's
      state machine, with its state and results in that store (default DIR)
  resume <runDir | jobId> [--data DIR] [--endpoint URL] [--quiet]
      continue a job run through the state machine (compute.shards, --store,
      or enkf serve) from its last completed round; the final θ is the one
      an uninterrupted run gives. A job id is looked up in DIR/jobs (default
      runs/service)
  plan <job.json> [--shards N] [--memory MB] [--json]
      estimate the job's AWS run before launch: Lambda GB-seconds, Step
      Functions transitions, S3 requests, dollars and wall time, calibrated
      by timing one shard's evaluate task here (default N: compute.shards
      or 4; MB: 3008)
  watch <jobId | runDir> [--url URL] [--data DIR] [--interval S]
      follow a running job to its end: a progress bar (plain lines when not
      a terminal), the latest metrics and an ETA. --url follows it through
      enkf serve's API (token in ENKF_TOKEN); otherwise it is read from disk
  report <runDir | jobId> [--out FILE] [--data DIR]
      one self-contained HTML page for a finished run: plots, spec, final
      metrics, the timing breakdown and the environment (default FILE:
      report.html in the run's directory)
  data <job.json> [--out DIR] [--shards N] [--force]
      convert the job's dataset into the sharded binary format
      (manifest.json with sha256 per shard; default DIR <name>-data, N 4)
  serve [--port 8787] [--host 127.0.0.1] [--data DIR] [--endpoint URL] [--concurrency N] [--max-jobs M]
      the HTTP API on this machine: submit, watch, fetch and cancel jobs,
      register datasets, schedule jobs. Callers send Authorization: Bearer
      <token>: ENKF_TOKEN, or a fresh one printed at start (ENKF_READ_TOKEN:
      a read-only one). DIR (default runs/service) holds jobs, datasets and
      schedules; unfinished jobs resume when the server starts again. N jobs
      run at once (default 1), at most M queued or running (default 32)
  schema
      print the job spec as JSON Schema
  help
      show this text
`;

async function dispatch(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case "help":
    case "--help":
    case "-h":
      io.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    case "schema":
      if (rest.length > 0) throw new CliError(2, `schema takes no arguments\n${USAGE}`);
      io.stdout.write(JSON.stringify(jobJsonSchema(), null, 2) + "\n");
      return 0;
    case "run": {
      let parsed;
      try {
        parsed = parseArgs({
          args: rest,
          allowPositionals: true,
          options: { out: { type: "string", short: "o" }, quiet: { type: "boolean", short: "q" }, force: { type: "boolean" }, store: { type: "string" }, endpoint: { type: "string" } },
        });
      } catch (e) {
        throw new CliError(2, `${(e as Error).message}\n${USAGE}`);
      }
      if (parsed.positionals.length !== 1) throw new CliError(2, `run takes exactly one job file\n${USAGE}`);
      return runCommand(parsed.positionals[0], { out: parsed.values.out, quiet: parsed.values.quiet ?? false, force: parsed.values.force ?? false, store: parsed.values.store, endpoint: parsed.values.endpoint }, io);
    }
    case "data": {
      let parsed;
      try {
        parsed = parseArgs({
          args: rest,
          allowPositionals: true,
          options: { out: { type: "string", short: "o" }, shards: { type: "string", default: "4" }, force: { type: "boolean" }, quiet: { type: "boolean", short: "q" } },
        });
      } catch (e) {
        throw new CliError(2, `${(e as Error).message}\n${USAGE}`);
      }
      if (parsed.positionals.length !== 1) throw new CliError(2, `data takes exactly one job file\n${USAGE}`);
      const shards = Number(parsed.values.shards);
      if (!Number.isInteger(shards) || shards < 1 || shards > 100_000) throw new CliError(2, `--shards must be an integer from 1 to 100000, got "${parsed.values.shards}"`);
      return dataCommand(parsed.positionals[0], { out: parsed.values.out, shards, force: parsed.values.force ?? false, quiet: parsed.values.quiet ?? false }, io);
    }
    case "resume": {
      let parsed;
      try {
        parsed = parseArgs({ args: rest, allowPositionals: true, options: { data: { type: "string", default: "runs/service" }, endpoint: { type: "string" }, quiet: { type: "boolean", short: "q" } } });
      } catch (e) {
        throw new CliError(2, `${(e as Error).message}\n${USAGE}`);
      }
      if (parsed.positionals.length !== 1) throw new CliError(2, `resume takes exactly one run directory or job id\n${USAGE}`);
      return resumeCommand(parsed.positionals[0], { data: parsed.values.data, endpoint: parsed.values.endpoint, quiet: parsed.values.quiet ?? false }, io);
    }
    case "watch": {
      let parsed;
      try {
        parsed = parseArgs({ args: rest, allowPositionals: true, options: { url: { type: "string" }, data: { type: "string", default: "runs/service" }, interval: { type: "string", default: "1" }, quiet: { type: "boolean", short: "q" } } });
      } catch (e) {
        throw new CliError(2, `${(e as Error).message}\n${USAGE}`);
      }
      if (parsed.positionals.length !== 1) throw new CliError(2, `watch takes exactly one job id or run directory\n${USAGE}`);
      const interval = Number(parsed.values.interval);
      if (!(interval >= 0.05 && interval <= 3600)) throw new CliError(2, `--interval must be 0.05 to 3600 seconds, got "${parsed.values.interval}"`);
      return watchCommand(parsed.positionals[0], { url: parsed.values.url, data: parsed.values.data, interval, quiet: parsed.values.quiet ?? false }, io);
    }
    case "plan": {
      let parsed;
      try {
        parsed = parseArgs({ args: rest, allowPositionals: true, options: { shards: { type: "string" }, memory: { type: "string", default: "3008" }, json: { type: "boolean" } } });
      } catch (e) {
        throw new CliError(2, `${(e as Error).message}\n${USAGE}`);
      }
      if (parsed.positionals.length !== 1) throw new CliError(2, `plan takes exactly one job file\n${USAGE}`);
      const shards = parsed.values.shards === undefined ? undefined : Number(parsed.values.shards);
      if (shards !== undefined && (!Number.isInteger(shards) || shards < 1 || shards > 10_000)) throw new CliError(2, `--shards must be an integer from 1 to 10000, got "${parsed.values.shards}"`);
      const memory = Number(parsed.values.memory);
      if (!Number.isInteger(memory) || memory < 128 || memory > 10_240) throw new CliError(2, `--memory must be Lambda's 128 to 10240 MB, got "${parsed.values.memory}"`);
      return planCommand(parsed.positionals[0], { shards, memory, json: parsed.values.json ?? false }, io);
    }
    case "report": {
      let parsed;
      try {
        parsed = parseArgs({ args: rest, allowPositionals: true, options: { out: { type: "string", short: "o" }, data: { type: "string", default: "runs/service" }, quiet: { type: "boolean", short: "q" } } });
      } catch (e) {
        throw new CliError(2, `${(e as Error).message}\n${USAGE}`);
      }
      if (parsed.positionals.length !== 1) throw new CliError(2, `report takes exactly one run directory or job id\n${USAGE}`);
      return reportCommand(parsed.positionals[0], { data: parsed.values.data, out: parsed.values.out, quiet: parsed.values.quiet ?? false }, io);
    }
    case "serve": {
      let parsed;
      try {
        parsed = parseArgs({
          args: rest,
          allowPositionals: false,
          options: { port: { type: "string", default: "8787" }, host: { type: "string", default: "127.0.0.1" }, data: { type: "string", default: "runs/service" }, endpoint: { type: "string" }, concurrency: { type: "string", default: "1" }, "max-jobs": { type: "string", default: "32" } },
        });
      } catch (e) {
        throw new CliError(2, `${(e as Error).message}\n${USAGE}`);
      }
      const port = Number(parsed.values.port), concurrency = Number(parsed.values.concurrency), maxJobs = Number(parsed.values["max-jobs"]);
      if (!Number.isInteger(maxJobs) || maxJobs < 1 || maxJobs > 10_000) throw new CliError(2, `--max-jobs must be an integer from 1 to 10000, got "${parsed.values["max-jobs"]}"`);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(2, `--port must be an integer from 0 to 65535, got "${parsed.values.port}"`);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new CliError(2, `--concurrency must be an integer from 1 to 64, got "${parsed.values.concurrency}"`);
      return serveCommand({ port, host: parsed.values.host, data: parsed.values.data, endpoint: parsed.values.endpoint, concurrency, maxJobs }, io);
    }
    default:
      throw new CliError(2, `unknown command "${command}"\n${USAGE}`);
  }
}

export async function main(argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (e) {
    if (e instanceof CliError) {
      io.stderr.write(`enkf: ${e.message}\n`);
      return e.exitCode;
    }
    const msg = e instanceof Error ? e.message : String(e);
    io.stderr.write(`enkf: internal error: ${msg}\n`);
    if (process.env.ENKF_DEBUG && e instanceof Error && e.stack) io.stderr.write(e.stack + "\n");
    return 1;
  }
}
