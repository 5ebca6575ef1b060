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
import { COMMANDS, commandHelp, USAGE } from "./usage.ts";

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
