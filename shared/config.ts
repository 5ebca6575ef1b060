// The one reader of the ENKF_* environment variables: their names (which the CDK app also uses
// when it sets a function's environment) and a zod-parsed view of them. Everything else takes
// the values it needs as arguments.

import { z } from "zod";

/** Every variable the product reads, by role. */
export const ENV = {
  /** enkf serve: the bearer token for writes (and reads), and an optional read-only one */
  token: "ENKF_TOKEN",
  readToken: "ENKF_READ_TOKEN",
  /** print stack traces of internal errors */
  debug: "ENKF_DEBUG",
  /** a deployment without the GPU option sets "off" */
  gpuOption: "ENKF_GPU_OPTION",
  /** the API and Launch functions: the jobs bucket, the state machine, the schedule group and role */
  bucket: "ENKF_BUCKET",
  stateMachineArn: "ENKF_STATE_MACHINE_ARN",
  scheduleGroup: "ENKF_SCHEDULE_GROUP",
  schedulerRoleArn: "ENKF_SCHEDULER_ROLE_ARN",
  /** the API and Launch functions: the Lambda functions a lambda forward may name (comma-separated
   *  ARNs: those the state machine's role may invoke, -c forwardFunctions) */
  forwardFunctions: "ENKF_FORWARD_FUNCTIONS",
  /** the API and Launch functions: the hosts an http forward may name (comma-separated host[:port]) */
  forwardHosts: "ENKF_FORWARD_HOSTS",
  /** the GPU container: the evaluate event of its Batch job */
  event: "ENKF_EVENT",
  /** fault injection for tests and chaos runs (local/faults.ts) */
  crashAt: "ENKF_CRASH_AT",
  faults: "ENKF_FAULTS",
} as const;

export type ConfigKey = keyof typeof ENV;

const text = z
  .string()
  .optional()
  .transform((v) => (v === "" ? undefined : v));
const Config = z.object({
  token: text,
  readToken: text,
  debug: text.transform((v) => v !== undefined && v !== "0"),
  gpuOption: z.enum(["on", "off"]).optional(),
  bucket: text,
  stateMachineArn: text,
  scheduleGroup: text,
  schedulerRoleArn: text,
  forwardFunctions: text.transform((v) =>
    (v ?? "")
      .split(",")
      .map((a) => a.trim())
      .filter(Boolean),
  ),
  forwardHosts: text.transform((v) =>
    (v ?? "")
      .split(",")
      .map((a) => a.trim())
      .filter(Boolean),
  ),
  event: text,
  crashAt: text,
  faults: text,
});

export type Config = z.infer<typeof Config>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** The configuration the environment gives; a malformed value is an error naming its variable. */
export function readConfig(env: Record<string, string | undefined> = process.env): Config {
  const raw = Object.fromEntries(Object.entries(ENV).map(([key, name]) => [key, env[name]]));
  const parsed = Config.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const name = ENV[issue.path[0] as ConfigKey] ?? String(issue.path[0]);
  throw new ConfigError(`${name}: ${issue.message}`);
}

/** A value a function cannot run without. */
export function required<K extends ConfigKey>(config: Config, key: K): NonNullable<Config[K]> {
  const v = config[key];
  if (v === undefined || v === null) throw new ConfigError(`the function's environment lacks ${ENV[key]}`);
  return v as NonNullable<Config[K]>;
}
