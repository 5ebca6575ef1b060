// `enkf serve`: the API's routes over node:http, with the local state machine as the engine and
// in-process timers as the scheduler. Callers present a bearer token; a second, read-only token
// may be given. Bodies are capped (413) before they are read whole. On start the server resumes
// the jobs a previous run left unfinished, and re-arms the schedules.

import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { openStore } from "../shared/store/openStore.ts";
import { keys } from "../shared/workflow/jobStore.ts";
import { recordFailure } from "../shared/workflow/outcome.ts";
import { createApi, type Api } from "../shared/api/app.ts";
import { ApiError, apiErrorOf, errorResponse, type ApiRequest, type ApiResponse } from "../shared/api/http.ts";
import { LocalRunner } from "./runner.ts";
import { LocalScheduler } from "./scheduler.ts";
import { workerPlanner } from "./dryRun.ts";
import { workerIngester } from "./ingest.ts";
import { totalmem } from "node:os";

/** enkf serve's default memory budget: a quarter of this machine's memory, in MiB. */
export const defaultMemoryMb = () => Math.floor(totalmem() / 4 / 2 ** 20);
import type { Authenticate } from "../shared/api/router.ts";
import type { Service } from "../shared/service/service.ts";
import type { JobOutcome } from "../shared/workflow/outcome.ts";

export interface LocalServerOptions {
  /** the service's directory (or s3:// prefix with `endpoint`) */
  location: string;
  endpoint?: string;
  host?: string;
  port?: number;
  /** full access */
  token: string;
  /** read-only access (GET routes) */
  readToken?: string;
  /** jobs run at once */
  concurrency?: number;
  /** jobs queued, running or being submitted, and dry runs, at most (default 32); more answer 429 */
  maxJobs?: number;
  /** the memory a job may need at its peak, in MiB (default: a quarter of this machine's); a job
   *  estimated above it is refused (shared/plan/memory.ts) */
  memoryMb?: number;
  /** the hosts an inverse job's http forward may name ("host" or "host:port"; none by default) */
  forwardHosts?: string[];
  /** a dry run's calibration: at most this long (default 60 s) and this much heap (default 1024 MiB) */
  dryRun?: { timeoutMs: number; heapMb: number };
  /** evaluate worker threads per job */
  workers?: number;
  /** bodies read whole: JSON (bytes, default 1 MiB) and CSV rows to predict on (default 64 MiB) */
  jsonLimit?: number;
  csvLimit?: number;
  /** CSV dataset uploads, streamed to disk (default 4 GiB) */
  uploadLimit?: number;
  log?: (line: string) => void;
  /** each job's outcome event (the detail EventBridge carries on AWS) */
  onOutcome?: (detail: JobOutcome) => void;
}

export interface LocalServer {
  url: string;
  api: Api;
  runner: LocalRunner;
  /** stops taking requests, stops the running jobs where they are (resumable) and the timers */
  close(): Promise<void>;
}

const digest = (s: string) => createHash("sha256").update(s).digest();
const same = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

function bearer(token: string, readToken: string | undefined): Authenticate {
  return (req, route) => {
    const header = req.headers.authorization ?? "";
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const challenge = { "www-authenticate": 'Bearer realm="enkf"' };
    if (!m)
      throw new ApiError(
        401,
        "unauthorized",
        header
          ? "the Authorization header is not a bearer token"
          : "send Authorization: Bearer <token> (enkf serve printed it; or ENKF_TOKEN)",
        [],
        challenge,
      );
    if (same(m[1], token)) return;
    if (readToken !== undefined && same(m[1], readToken)) {
      if (route.mutates) throw new ApiError(403, "forbidden", "this token may read but not change anything");
      return;
    }
    throw new ApiError(401, "unauthorized", "the token is wrong", [], challenge);
  };
}

/** The request's body as it arrives, refused with 413 once it passes `limit`. */
async function* limited(req: IncomingMessage, limit: number): AsyncIterable<Uint8Array> {
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (declared > limit)
    throw new ApiError(413, "payload_too_large", `the body is ${declared} bytes; the limit here is ${limit}`);
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > limit) throw new ApiError(413, "payload_too_large", `the body is over the limit of ${limit} bytes`);
    yield chunk as Buffer;
  }
}

async function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (declared > limit)
    throw new ApiError(413, "payload_too_large", `the body is ${declared} bytes; the limit here is ${limit}`);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > limit) throw new ApiError(413, "payload_too_large", `the body is over the limit of ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

function send(res: ServerResponse, r: ApiResponse, closeAfter = false): void {
  const body =
    typeof r.body === "string" ? Buffer.from(r.body) : Buffer.from(r.body.buffer, r.body.byteOffset, r.body.byteLength);
  res.writeHead(r.status, {
    ...r.headers,
    "content-length": String(body.length),
    "cache-control": "no-store",
    ...(closeAfter ? { connection: "close" } : {}),
  });
  res.end(body);
}

export async function startLocalServer(opts: LocalServerOptions): Promise<LocalServer> {
  const log = opts.log ?? (() => undefined);
  let service: Service | undefined;
  const runner = new LocalRunner({
    concurrency: opts.concurrency,
    workers: opts.workers,
    maxJobs: opts.maxJobs,
    log,
    outcome: (event) => service!.outcome(event),
    publish: (detail) => {
      const d = detail as JobOutcome;
      log(
        `job ${d.id}: outcome ${d.status}${d.promotion ? `; model ${d.promotion.model}: ${d.promotion.decision}` : ""}`,
      );
      opts.onOutcome?.(d);
    },
  });
  const scheduler = new LocalScheduler(log);
  const api = createApi({
    location: opts.location,
    endpoint: opts.endpoint,
    engine: runner,
    scheduler,
    forwardHosts: opts.forwardHosts ?? [],
    memory: { budgetBytes: (opts.memoryMb ?? defaultMemoryMb()) * 2 ** 20, workers: runner.workers },
    planner: workerPlanner(opts.dryRun ?? { timeoutMs: 60_000, heapMb: 1024 }),
    ingest: workerIngester(),
    authenticate: bearer(opts.token, opts.readToken),
    auth: "bearer",
    onError: (id, e) => log(`error ${id}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`),
  });
  service = api.service;
  scheduler.onFire((id, at) => api.service.schedules.fire(id, at));

  // jobs a previous run left unfinished resume from their last completed round
  for (const id of await api.service.jobs.unfinished()) {
    const ref = api.service.jobs.jobRef(id);
    const store = openStore(ref.store, { endpoint: ref.endpoint });
    if (!(await store.has(keys.spec))) {
      await recordFailure(store, {
        Error: "Interrupted",
        Cause: "the server stopped while preparing this job; submit it again",
      });
      log(`job ${id}: marked failed (interrupted while being prepared)`);
      continue;
    }
    log(`job ${id}: resuming`);
    await runner.start(ref);
  }
  for (const s of await api.service.schedules.records()) await scheduler.arm(s);

  const jsonLimit = opts.jsonLimit ?? 1 << 20;
  const csvLimit = opts.csvLimit ?? 64 << 20;
  const uploadLimit = opts.uploadLimit ?? 4 * 2 ** 30;
  const server: Server = createServer(async (req, res) => {
    let closeAfter = false;
    try {
      const [rawPath, rawQuery = ""] = (req.url ?? "/").split(/\?(.*)/s, 2);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers))
        if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
      const method = req.method ?? "GET";
      const csv = (headers["content-type"] ?? "").toLowerCase().startsWith("text/csv");
      const query: Record<string, string> = {};
      for (const [k, v] of new URLSearchParams(rawQuery)) query[k] = v;
      let request: ApiRequest;
      if (csv && api.router.find(method, rawPath)?.streamsBody) {
        // an upload streams into its worker as it arrives: its size is bounded by the disk, not memory
        let ended = false;
        req.once("end", () => {
          ended = true;
        });
        request = { method, path: rawPath, query, headers, body: new Uint8Array(0), stream: limited(req, uploadLimit) };
        const answer = await api.router.handle(request).catch((e: unknown) => {
          closeAfter = !ended;
          throw e;
        });
        send(res, answer, !ended);
        return;
      }
      try {
        request = { method, path: rawPath, query, headers, body: await readBody(req, csv ? csvLimit : jsonLimit) };
      } catch (e) {
        closeAfter = true; // the rest of the body is not read
        throw e;
      }
      send(res, await api.router.handle(request));
    } catch (e) {
      const client = apiErrorOf(e);
      if (client) send(res, errorResponse(client), closeAfter);
      else {
        log(`error: ${e instanceof Error ? e.stack : String(e)}`);
        send(res, errorResponse(new ApiError(500, "internal", "the server failed on this request")), true);
      }
    }
  });
  server.on("clientError", (_err, socket) => {
    if (socket.writable)
      socket.end(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\nconnection: " +
          'close\r\n\r\n{"error":{"code":"bad_request","message":"malformed HTTP ' +
          'request","details":[]}}\n',
      );
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 8787, opts.host ?? "127.0.0.1", () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    api,
    runner,
    async close() {
      scheduler.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await runner.close();
    },
  };
}
