// A local endpoint that speaks Lambda's Invoke API (POST /2015-03-31/functions/{name}/invocations)
// for the deployed-artifacts stage. Each function runs in processes of its own (runtime.mjs), with
// the environment, memory (--max-old-space-size) and timeout its template gives it: a process is
// one execution environment, kept warm between invocations and discarded after a timeout or a
// crash. A handler's error answers 200 with X-Amz-Function-Error, as Lambda does; a payload over
// Lambda's 6 MB limit is refused. Invocations beyond a function's concurrency wait their turn.

import { fork, type ChildProcess } from "node:child_process";
import { appendFileSync, readFileSync, existsSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";

export interface HostedFunction {
  name: string;
  arn: string;
  taskRoot: string;
  handler: string;
  nodePath: string[];
  /** MiB */
  memory: number;
  /** seconds */
  timeout: number;
  environment: Record<string, string>;
}

export interface LambdaEndpointOptions {
  functions: HostedFunction[];
  /** variables every function gets besides its own (credentials, region, the stand-ins' endpoints) */
  environment: Record<string, string>;
  /** execution environments per function at a time (default 3) */
  concurrency?: number;
  /** each function's output goes to <logDir>/<name>.log */
  logDir: string;
}

export interface Invocation {
  payload: string;
  /** "Unhandled" when the function failed; the payload is then { errorType, errorMessage, trace } */
  functionError?: string;
}

const PAYLOAD_LIMIT = 6 * 1024 * 1024;
const RUNTIME = join(import.meta.dirname, "runtime.mjs");

interface Environment {
  child: ChildProcess;
  ready: Promise<void>;
}

class FunctionHost {
  private idle: Environment[] = [];
  private running = 0;
  private waiting: (() => void)[] = [];
  /** milliseconds each cold start spent loading the handler (its import) */
  readonly initMs: number[] = [];
  invocations = 0;

  constructor(
    readonly fn: HostedFunction,
    private readonly opts: LambdaEndpointOptions,
  ) {}

  private start(): Environment {
    const fn = this.fn;
    const variables: Record<string, string> = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      LANG: "en_US.UTF-8",
      TZ: ":UTC",
      ...this.opts.environment,
      ...fn.environment,
      NODE_PATH: fn.nodePath.join(":"),
      LAMBDA_TASK_ROOT: fn.taskRoot,
      AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
      AWS_LAMBDA_FUNCTION_NAME: fn.name,
      AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memory),
    };
    const child = fork(RUNTIME, [fn.taskRoot, fn.handler], {
      cwd: fn.taskRoot,
      env: variables,
      execArgv: [`--max-old-space-size=${fn.memory}`],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      serialization: "json",
    });
    const log = join(this.opts.logDir, `${fn.name}.log`);
    const write = (b: Buffer) => appendFileSync(log, b);
    child.stdout!.on("data", write);
    child.stderr!.on("data", write);
    const ready = new Promise<void>((resolve, reject) => {
      child.once("message", (m: { type: string; initMs?: number; error?: unknown }) => {
        if (m.type === "ready") {
          this.initMs.push(m.initMs!);
          resolve();
        } else reject(Object.assign(new Error("init"), { lambda: m.error }));
      });
      child.once("exit", (code) =>
        reject(
          Object.assign(new Error("exit"), {
            lambda: {
              errorType: "Runtime.ExitError",
              errorMessage: `RequestId: init Error: Runtime exited with error: exit status ${code}`,
            },
          }),
        ),
      );
    });
    ready.catch(() => undefined);
    const environment: Environment = { child, ready };
    // an environment that dies between invocations is not reused
    child.once("exit", () => {
      this.idle = this.idle.filter((e) => e !== environment);
    });
    return environment;
  }

  private async acquire(): Promise<Environment> {
    const limit = this.opts.concurrency ?? 3;
    while (this.running >= limit) await new Promise<void>((r) => this.waiting.push(r));
    this.running++;
    const warm = this.idle.pop();
    return warm ?? this.start();
  }

  private release(env: Environment | null): void {
    this.running--;
    if (env) this.idle.push(env);
    this.waiting.shift()?.();
  }

  /** Starts an execution environment (a cold start) and keeps it warm; its init time in ms. */
  async warm(): Promise<number> {
    const env = await this.acquire();
    try {
      await env.ready;
    } catch (e) {
      env.child.kill("SIGKILL");
      this.release(null);
      const err = (e as { lambda: { errorType: string; errorMessage: string } }).lambda;
      throw new Error(`${err.errorType}: ${err.errorMessage}`);
    }
    this.release(env);
    return this.initMs.at(-1)!;
  }

  async invoke(payload: string): Promise<Invocation> {
    this.invocations++;
    const env = await this.acquire();
    const fail = (e: unknown): Invocation => ({ functionError: "Unhandled", payload: JSON.stringify(e) });
    try {
      await env.ready;
    } catch (e) {
      env.child.kill("SIGKILL");
      this.release(null);
      return fail((e as { lambda: unknown }).lambda);
    }
    const deadline = Date.now() + this.fn.timeout * 1000;
    const id = Math.random().toString(36).slice(2);
    return new Promise<Invocation>((resolve) => {
      let settled = false;
      const done = (r: Invocation, keep: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        env.child.off("message", onMessage);
        env.child.off("exit", onExit);
        if (!keep) env.child.kill("SIGKILL");
        this.release(keep ? env : null);
        resolve(r);
      };
      const timer = setTimeout(
        () =>
          done(
            fail({
              errorType: "Sandbox.Timedout",
              errorMessage: `Task timed out after ${this.fn.timeout.toFixed(2)} seconds`,
            }),
            false,
          ),
        this.fn.timeout * 1000,
      );
      const onExit = (code: number | null, signal: string | null) =>
        done(
          fail({
            errorType: "Runtime.ExitError",
            errorMessage: `Runtime exited with error: ${signal ? `signal: ${signal}` : `exit status ${code}`}`,
          }),
          false,
        );
      const onMessage = (m: { type: string; id: string; payload?: string; error?: unknown }) => {
        if (m.type !== "result" || m.id !== id) return;
        if (m.error) return done(fail(m.error), true);
        if (Buffer.byteLength(m.payload!) > PAYLOAD_LIMIT) {
          return done(
            fail({
              errorType: "Function.ResponseSizeTooLarge",
              errorMessage: `Response payload size exceeded maximum allowed payload size (${PAYLOAD_LIMIT} bytes).`,
            }),
            true,
          );
        }
        done({ payload: m.payload! }, true);
      };
      env.child.on("message", onMessage);
      env.child.once("exit", onExit);
      env.child.send({ type: "invoke", id, payload, arn: this.fn.arn, deadline });
    });
  }

  close(): void {
    for (const e of this.idle) e.child.kill("SIGKILL");
    this.idle = [];
  }
}

export class LambdaEndpoint {
  private readonly hosts = new Map<string, FunctionHost>();

  constructor(private readonly opts: LambdaEndpointOptions) {
    for (const fn of opts.functions) this.add(fn);
  }

  add(fn: HostedFunction): void {
    const host = new FunctionHost(fn, this.opts);
    this.hosts.set(fn.name, host);
    this.hosts.set(fn.arn, host);
  }

  /** The function a name, an ARN or a qualified ARN names. */
  host(nameOrArn: string): FunctionHost | undefined {
    return this.hosts.get(nameOrArn) ?? this.hosts.get(nameOrArn.replace(/:(\$LATEST|[A-Za-z0-9_-]+)$/, ""));
  }

  invoke(nameOrArn: string, payload: string): Promise<Invocation> {
    const host = this.host(nameOrArn);
    if (!host) throw new Error(`Function not found: ${nameOrArn}`);
    return host.invoke(payload);
  }

  /** The log a function's processes wrote, for a failing test's message. */
  log(name: string): string {
    const path = join(this.opts.logDir, `${name}.log`);
    return existsSync(path) ? readFileSync(path, "utf8") : "";
  }

  /** Answers POST /2015-03-31/functions/{name}/invocations; false for any other request. */
  handle(req: IncomingMessage, res: ServerResponse, body: Buffer): boolean {
    const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations(?:\?.*)?$/.exec(req.url ?? "");
    if (!m || req.method !== "POST") return false;
    const error = (status: number, type: string, message: string) => {
      res.writeHead(status, { "content-type": "application/json", "x-amzn-errortype": type });
      res.end(JSON.stringify({ Type: "User", message }));
    };
    const host = this.host(decodeURIComponent(m[1]));
    if (!host) {
      error(404, "ResourceNotFoundException", `Function not found: ${decodeURIComponent(m[1])}`);
      return true;
    }
    if (body.length > PAYLOAD_LIMIT) {
      error(
        413,
        "RequestTooLargeException",
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
      );
      return true;
    }
    const type = String(req.headers["x-amz-invocation-type"] ?? "RequestResponse");
    if (type === "DryRun") {
      res.writeHead(204);
      res.end();
      return true;
    }
    if (type !== "RequestResponse") {
      error(400, "InvalidParameterValueException", `this endpoint answers RequestResponse invocations, not ${type}`);
      return true;
    }
    host.invoke(body.length ? body.toString("utf8") : "{}").then(
      (r) => {
        res.writeHead(200, {
          "content-type": "application/json",
          "x-amz-executed-version": "$LATEST",
          ...(r.functionError ? { "x-amz-function-error": r.functionError } : {}),
        });
        res.end(r.payload);
      },
      (e: Error) => error(500, "ServiceException", e.message),
    );
    return true;
  }

  close(): void {
    for (const host of new Set(this.hosts.values())) host.close();
  }
}
