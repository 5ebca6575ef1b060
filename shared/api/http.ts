// The HTTP API's transport-neutral request and response, its error type, and the helpers every
// route uses to read bodies: the Lambda adapter (API Gateway v2 events) and the local server
// (node:http) both translate to and from these, so the routes run unchanged on either.

import type { z } from "zod";
import { ServiceError, type ServiceErrorKind } from "../service/errors.ts";
import { StoreFullError } from "../store/blobStore.ts";
import { specProblems, type DocumentName } from "../spec/errors.ts";

export interface ApiRequest {
  method: string;
  /** the raw path, percent-encoded, without the query */
  path: string;
  query: Record<string, string>;
  /** header names in lower case */
  headers: Record<string, string>;
  body: Uint8Array;
  /** the body as it arrives, for a route that streams it (Route.streamsBody); `body` is then empty */
  stream?: AsyncIterable<Uint8Array>;
}

/** The request's body as pieces: its stream, or the whole body at once. */
export async function* bodyPieces(req: ApiRequest): AsyncIterable<Uint8Array> {
  if (req.stream) yield* req.stream;
  else yield req.body;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: string | Uint8Array;
}

export interface Detail {
  path: string;
  message: string;
}

/** A client's mistake (4xx) or a stated server condition: becomes the error body, never a stack. */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Detail[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string, details: Detail[] = []) =>
  new ApiError(400, "bad_request", message, details);

/** The one map from the service's domain errors to HTTP statuses and default codes. */
const STATUS: Record<ServiceErrorKind, [number, string]> = {
  invalid: [400, "bad_request"],
  not_found: [404, "not_found"],
  conflict: [409, "conflict"],
  busy: [429, "too_many_requests"],
};

/** The HTTP form of an error a client should see (ApiError, or a domain error); null for a fault of ours. */
export function apiErrorOf(e: unknown): ApiError | null {
  if (e instanceof ApiError) return e;
  // the server's own condition, stated: nothing was changed, and the same request works once there is room
  for (let c: unknown = e; c instanceof Error; c = c.cause) {
    if (c instanceof StoreFullError)
      return new ApiError(
        507,
        "insufficient_storage",
        "the server's storage is full, so nothing was changed; retry once space is freed",
      );
  }
  if (e instanceof ServiceError) {
    const [status, code] = STATUS[e.kind];
    return new ApiError(status, e.code ?? code, e.message, e.details);
  }
  return null;
}

export function json(status: number, value: unknown, headers: Record<string, string> = {}): ApiResponse {
  return {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
    body: JSON.stringify(value) + "\n",
  };
}

export function errorResponse(e: ApiError): ApiResponse {
  return json(e.status, { error: { code: e.code, message: e.message, details: e.details } }, e.headers);
}

/** The media type of the request body, lower case, without parameters. */
export function mediaType(req: ApiRequest): string {
  return (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
}

/** The body as JSON, validated by `schema`: 415 for another media type, 400 naming every bad field. */
export function jsonBody<T extends z.ZodType>(
  req: ApiRequest,
  schema: T,
  invalidCode = "bad_request",
  doc: DocumentName = () => "the request body",
): z.infer<T> {
  const type = mediaType(req);
  if (type !== "application/json")
    throw new ApiError(
      415,
      "unsupported_media_type",
      `send the body as application/json${type ? ` (got ${type})` : ""}`,
    );
  const value = parseJson(req.body);
  const r = schema.safeParse(value);
  if (!r.success) {
    const details = specProblems(r.error, doc);
    throw new ApiError(
      400,
      invalidCode,
      `the body is not valid: ${details.length} problem${details.length === 1 ? "" : "s"}`,
      details,
    );
  }
  return r.data;
}

export function parseJson(body: Uint8Array): unknown {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(body);
  } catch {
    throw badRequest("the body is not UTF-8 text");
  }
  if (text.trim() === "") throw badRequest("the body is empty; send a JSON document");
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`malformed JSON: ${(e as Error).message}`, [{ path: "", message: "not JSON" }]);
  }
}

/** A query parameter as an integer in [min, max], or the default. */
export function intParam(req: ApiRequest, name: string, def: number, min: number, max: number): number {
  const raw = req.query[name];
  if (raw === undefined || raw === "") return def;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max)
    throw badRequest(`query parameter ${name} must be an integer from ${min} to ${max}`, [
      { path: name, message: `got "${raw.slice(0, 40)}"` },
    ]);
  return v;
}

/** A file as a download (θ, a sampler's samples, a model's ONNX file). */
export const download = (filename: string, body: Uint8Array) => ({
  status: 200,
  headers: { "content-type": "application/octet-stream", "content-disposition": `attachment; filename="${filename}"` },
  body,
});
