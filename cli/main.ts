// The `enkf` command line: argument parsing and dispatch. Exit codes: 0 ok, 1 runtime failure,
// 2 bad usage or invalid job, 130 interrupted.

import { readConfig } from "../shared/config.ts";
import { parseArgs, type ParseArgsConfig } from "node:util";
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
  run <job.json> [--out DIR] [--quiet] [--force] [--store LOCATION] [--endpoint URL] [--init-from RUN]
      run a job on this machine; writes result.json, theta.npy, history.csv
      and spec.json into DIR (default runs/<name>-<timestamp>). A job with
      compute.shards, or given --store (a directory or s3://bucket/prefix,
      with --endpoint for S3-compatible servers), runs through the job's
      state machine, with its state and results in that store (default DIR;
      with both --store and --out, the results are copied to DIR as well).
      --init-from RUN warm-starts a network from a finished run directory
      (or an enkf serve job id): θ₀ is its theta.npy, when its model.json
      describes the same network
  resume <runDir | jobId> [--data DIR] [--endpoint URL] [--quiet]
      continue a job run through the state machine (compute.shards, --store,
      or enkf serve) from its last completed round; the final θ is the one
      an uninterrupted run gives. A job id is looked up in DIR/jobs (default
      runs/service)
  plan <job.json> [--shards N] [--memory MB] [--json]
      estimate the job's AWS run before launch: Lambda GB-seconds, Step
      Functions transitions, S3 requests, dollars and wall time, calibrated
      by timing one shard's evaluate task here (default N: compute.shards
      or 4; MB: 3008). An inverse job fans out over member blocks: N is
      then its compute.memberBlocks (1 to 40)
  watch <jobId | runDir> [--url URL] [--data DIR] [--interval S]
      follow a running job to its end: a progress bar (plain lines when not
      a terminal), the latest metrics and an ETA. --url follows it through
      enkf serve's API (token in ENKF_TOKEN); otherwise it is read from disk
  report <runDir | jobId> [--out FILE] [--data DIR]
      one self-contained HTML page for a finished run: plots, spec, final
      metrics, the timing breakdown and the environment (default FILE:
      report.html in the run's directory)
  predict <runDir | jobId> <rows.csv | rows.npy> [--out FILE] [--probabilities] [--data DIR]
      apply a trained model (the run's model.json and theta.npy, the best θ) to
      raw rows: CSV columns by name in any order (the label column may stay),
      or a .npy (rows, features) in model.json's order; the training
      standardization is applied. Writes a CSV of labels in the class names
      (with --probabilities, p_<class> columns) or of the targets, to FILE or
      stdout
  export <runDir | jobId> [--out FILE] [--data DIR]
      the trained model as a standalone ONNX file (default model.onnx in the
      run's directory): input x [batch, features] of raw rows, standardization
      inside; outputs logits, probabilities and label, or output (regression)
  data <job.json> [--out DIR] [--shards N] [--force]
      convert the job's dataset into the sharded binary format
      (manifest.json with sha256 per shard; default DIR <name>-data, N 4)
  serve [--port 8787] [--host 127.0.0.1] [--data DIR] [--endpoint URL] [--concurrency N] [--max-jobs M]
        [--memory MB] [--forward-hosts HOST[:PORT],…]
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

const COMMANDS = ["run", "resume", "plan", "watch", "report", "predict", "export", "data", "serve", "schema", "help"];

/** One command's part of the usage (its synopsis and description), or null for an unknown command. */
export function commandHelp(command: string): string | null {
  const lines = USAGE.split("\n");
  const start = lines.findIndex((l) => l === `  ${command}` || l.startsWith(`  ${command} `));
  if (start < 0) return null;
  let end = start + 1;
  while (end < lines.length && lines[end].startsWith("      ")) end++;
  return `usage: enkf ${lines[start].trim()}\n\n${lines
    .slice(start + 1, end)
    .map((l) => l.slice(4))
    .join("\n")}\n`;
}

/** A command's flags, parsed; `positional` names its one positional argument (null: none). */
function flags<const O extends NonNullable<ParseArgsConfig["options"]>>(
  command: string,
  args: string[],
  options: O,
  positional: string | null,
  count = 1,
) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: positional !== null, strict: true });
  } catch (e) {
    // node:util says how to pass a positional that starts with "-": not what a mistyped flag needs
    throw new CliError(2, `${(e as Error).message.split(". To specify")[0]}; see enkf ${command} --help`);
  }
  if (positional !== null && parsed.positionals.length !== count)
    throw new CliError(
      2,
      `${command} takes ${count === 1 ? `exactly one ${positional}` : positional}; see enkf ${command} --help`,
    );
  return parsed;
}

/** An integer flag in [min, max]; anything else exits 2 naming the flag. */
function intFlag(name: string, raw: string, min: number, max: number): number {
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max)
    throw new CliError(2, `--${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return v;
}

async function dispatch(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  // `enkf <command> --help`: that command's usage on stdout, whatever else was given
  const help = command !== undefined && (rest.includes("--help") || rest.includes("-h")) ? commandHelp(command) : null;
  if (help !== null) {
    io.stdout.write(help);
    return 0;
  }
  switch (command) {
    case undefined:
      throw new CliError(2, `a command is needed: ${COMMANDS.join(", ")}; see enkf --help`);
    case "help":
    case "--help":
    case "-h":
      io.stdout.write(USAGE);
      return 0;
    case "schema":
      if (rest.length > 0) throw new CliError(2, "schema takes no arguments; see enkf schema --help");
      io.stdout.write(JSON.stringify(jobJsonSchema(), null, 2) + "\n");
      return 0;
    case "run": {
      const { values, positionals } = flags(
        command,
        rest,
        {
          out: { type: "string", short: "o" },
          quiet: { type: "boolean", short: "q" },
          force: { type: "boolean" },
          store: { type: "string" },
          endpoint: { type: "string" },
          "init-from": { type: "string" },
        },
        "job file",
      );
      return runCommand(
        positionals[0],
        {
          out: values.out,
          quiet: values.quiet ?? false,
          force: values.force ?? false,
          store: values.store,
          endpoint: values.endpoint,
          initFrom: values["init-from"],
        },
        io,
      );
    }
    case "data": {
      const { values, positionals } = flags(
        command,
        rest,
        {
          out: { type: "string", short: "o" },
          shards: { type: "string", default: "4" },
          force: { type: "boolean" },
          quiet: { type: "boolean", short: "q" },
        },
        "job file",
      );
      const shards = intFlag("shards", values.shards, 1, 100_000);
      return dataCommand(
        positionals[0],
        { out: values.out, shards, force: values.force ?? false, quiet: values.quiet ?? false },
        io,
      );
    }
    case "resume": {
      const { values, positionals } = flags(
        command,
        rest,
        {
          data: { type: "string", default: "runs/service" },
          endpoint: { type: "string" },
          quiet: { type: "boolean", short: "q" },
        },
        "run directory or job id",
      );
      return resumeCommand(
        positionals[0],
        { data: values.data, endpoint: values.endpoint, quiet: values.quiet ?? false },
        io,
      );
    }
    case "watch": {
      const { values, positionals } = flags(
        command,
        rest,
        {
          url: { type: "string" },
          data: { type: "string", default: "runs/service" },
          interval: { type: "string", default: "1" },
          quiet: { type: "boolean", short: "q" },
        },
        "job id or run directory",
      );
      const interval = Number(values.interval);
      if (!(interval >= 0.05 && interval <= 3600))
        throw new CliError(2, `--interval must be 0.05 to 3600 seconds, got "${values.interval}"`);
      return watchCommand(
        positionals[0],
        { url: values.url, data: values.data, interval, quiet: values.quiet ?? false },
        io,
      );
    }
    case "plan": {
      const { values, positionals } = flags(
        command,
        rest,
        { shards: { type: "string" }, memory: { type: "string", default: "3008" }, json: { type: "boolean" } },
        "job file",
      );
      const shards = values.shards === undefined ? undefined : intFlag("shards", values.shards, 1, 10_000);
      // Lambda's memory range
      const memory = intFlag("memory", values.memory, 128, 10_240);
      return planCommand(positionals[0], { shards, memory, json: values.json ?? false }, io);
    }
    case "predict": {
      const { values, positionals } = flags(
        command,
        rest,
        {
          out: { type: "string", short: "o" },
          probabilities: { type: "boolean" },
          data: { type: "string", default: "runs/service" },
          quiet: { type: "boolean", short: "q" },
        },
        "a run directory (or job id) and a rows file",
        2,
      );
      const { predictCommand } = await import("./predictCommand.ts");
      return predictCommand(
        positionals[0],
        positionals[1],
        {
          data: values.data,
          out: values.out,
          probabilities: values.probabilities ?? false,
          quiet: values.quiet ?? false,
        },
        io,
      );
    }
    case "export": {
      const { values, positionals } = flags(
        command,
        rest,
        {
          out: { type: "string", short: "o" },
          data: { type: "string", default: "runs/service" },
          quiet: { type: "boolean", short: "q" },
        },
        "run directory or job id",
      );
      const { exportCommand } = await import("./exportCommand.ts");
      return exportCommand(positionals[0], { data: values.data, out: values.out, quiet: values.quiet ?? false }, io);
    }
    case "report": {
      const { values, positionals } = flags(
        command,
        rest,
        {
          out: { type: "string", short: "o" },
          data: { type: "string", default: "runs/service" },
          quiet: { type: "boolean", short: "q" },
        },
        "run directory or job id",
      );
      return reportCommand(positionals[0], { data: values.data, out: values.out, quiet: values.quiet ?? false }, io);
    }
    case "serve": {
      const { values } = flags(
        command,
        rest,
        {
          port: { type: "string", default: "8787" },
          host: { type: "string", default: "127.0.0.1" },
          data: { type: "string", default: "runs/service" },
          endpoint: { type: "string" },
          concurrency: { type: "string", default: "1" },
          "max-jobs": { type: "string", default: "32" },
          memory: { type: "string" },
          "forward-hosts": { type: "string", default: "" },
        },
        null,
      );
      return serveCommand(
        {
          port: intFlag("port", values.port, 0, 65_535),
          host: values.host,
          data: values.data,
          endpoint: values.endpoint,
          concurrency: intFlag("concurrency", values.concurrency, 1, 64),
          maxJobs: intFlag("max-jobs", values["max-jobs"], 1, 10_000),
          ...(values.memory !== undefined ? { memoryMb: intFlag("memory", values.memory, 64, 16 * 2 ** 20) } : {}),
          forwardHosts: values["forward-hosts"]
            .split(",")
            .map((h) => h.trim())
            .filter(Boolean),
        },
        io,
      );
    }
    default:
      throw new CliError(2, `unknown command "${command}" (commands: ${COMMANDS.join(", ")}); see enkf --help`);
  }
}

export async function main(
  argv: string[],
  io: Io = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (e) {
    if (e instanceof CliError) {
      io.stderr.write(`enkf: ${e.message}\n`);
      return e.exitCode;
    }
    const msg = e instanceof Error ? e.message : String(e);
    io.stderr.write(`enkf: internal error: ${msg}\n`);
    if (debugging() && e instanceof Error && e.stack) io.stderr.write(e.stack + "\n");
    return 1;
  }
}

/** ENKF_DEBUG set (and not 0); a malformed environment never hides the error being reported. */
function debugging(): boolean {
  try {
    return readConfig().debug;
  } catch {
    return false;
  }
}
