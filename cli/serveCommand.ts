// `enkf serve`: the HTTP API on this machine (local/server.ts). Prints where it
// listens and the bearer token (ENKF_TOKEN, or a fresh one), then serves until SIGINT/SIGTERM,
// when running jobs stop where they are and resume on the next start.

import { readConfig } from "../shared/config.ts";
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { defaultMemoryMb, startLocalServer } from "../local/server.ts";
import { StoreError } from "../shared/store/blobStore.ts";
import { CliError, type Io } from "./io.ts";

export interface ServeFlags {
  port: number;
  host: string;
  /** the service's directory, or s3://bucket/prefix */
  data: string;
  endpoint?: string;
  concurrency: number;
  maxJobs: number;
  /** a job's peak memory at most, in MiB (default: a quarter of this machine's) */
  memoryMb?: number;
  /** the hosts inverse jobs' http forwards may call */
  forwardHosts: string[];
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

export async function serveCommand(flags: ServeFlags, io: Io): Promise<number> {
  const config = readConfig();
  const fromEnv = config.token;
  if (fromEnv !== undefined && fromEnv.length < 16)
    throw new CliError(2, "ENKF_TOKEN is shorter than 16 characters; use a longer secret");
  const token = fromEnv ?? randomBytes(24).toString("base64url");
  const readToken = config.readToken;
  // the read token exposes θ, models and predictions: the same rule as the write token
  if (readToken !== undefined && readToken.length < 16)
    throw new CliError(2, "ENKF_READ_TOKEN is shorter than 16 characters; use a longer secret");
  if (readToken !== undefined && readToken === token)
    throw new CliError(2, "ENKF_READ_TOKEN is the same as ENKF_TOKEN; a read-only token must differ");
  if (!LOOPBACK.has(flags.host))
    io.stderr.write(
      `enkf: warning: listening on ${flags.host}, beyond this machine; anyone who has the token can run jobs here\n`,
    );
  let server;
  try {
    server = await startLocalServer({
      location: flags.data.startsWith("s3://") ? flags.data : resolve(flags.data),
      endpoint: flags.endpoint,
      host: flags.host,
      port: flags.port,
      token,
      readToken,
      concurrency: flags.concurrency,
      maxJobs: flags.maxJobs,
      memoryMb: flags.memoryMb,
      forwardHosts: flags.forwardHosts,
      log: (line) => io.stderr.write(`${new Date().toISOString()} ${line}\n`),
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "EADDRINUSE")
      throw new CliError(1, `port ${flags.port} on ${flags.host} is in use; choose another with --port`);
    if (err.code === "EACCES") throw new CliError(1, `no permission to listen on ${flags.host}:${flags.port}`);
    if (e instanceof StoreError) throw new CliError(2, e.message);
    throw e;
  }
  io.stdout.write(`enkf serve: listening on ${server.url} (data in ${flags.data})\n`);
  io.stdout.write(
    `limits: ${flags.maxJobs} jobs (--max-jobs), ${flags.memoryMb ?? defaultMemoryMb()} MiB of ` +
      `memory per job (--memory), forward hosts: ` +
      `${flags.forwardHosts.length ? flags.forwardHosts.join(", ") : "none (--forward-hosts)"}\n`,
  );
  io.stdout.write(fromEnv ? "token: from ENKF_TOKEN\n" : `token: ${token}\n`);
  io.stdout.write(`try: curl -H "Authorization: Bearer ${fromEnv ? "$ENKF_TOKEN" : token}" ${server.url}/jobs\n`);
  await new Promise<void>((done) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      done();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  io.stderr.write("enkf serve: stopping; running jobs resume on the next start\n");
  await server.close();
  return 0;
}
