// Lambda entry point of the HTTP API (API Gateway HTTP API, payload format 2.0): the same routes
// as `enkf serve`, with Step Functions as the engine, EventBridge Scheduler as the scheduler and
// the jobs bucket as the store. API Gateway has already authenticated the caller (IAM or JWT).

import { readConfig, required } from "../shared/config.ts";
import { createApi, type Api } from "../shared/api/app.ts";
import { EventBridgeScheduler } from "../shared/service/eventBridgeScheduler.ts";
import { ApiError, errorResponse, type ApiRequest, type ApiResponse } from "../shared/api/http.ts";
import { StepFunctionsEngine } from "../shared/service/stepFunctionsEngine.ts";

interface HttpApiEvent {
  rawPath: string;
  rawQueryString?: string;
  headers?: Record<string, string>;
  body?: string;
  isBase64Encoded?: boolean;
  requestContext: { http: { method: string } };
}

interface HttpApiResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: boolean;
}

/** Lambda's request payload limit, less API Gateway's envelope. */
const BODY_LIMIT = 6_000_000;

let api: Api | undefined;
function build(): Api {
  const config = readConfig();
  const env = (key: "bucket" | "stateMachineArn" | "scheduleGroup" | "schedulerRoleArn") => required(config, key);
  return createApi({
    location: `s3://${env("bucket")}/`,
    forwardFunctions: config.forwardFunctions,
    forwardHosts: config.forwardHosts,
    engine: new StepFunctionsEngine(env("stateMachineArn")),
    scheduler: new EventBridgeScheduler({
      group: env("scheduleGroup"),
      stateMachineArn: env("stateMachineArn"),
      roleArn: env("schedulerRoleArn"),
    }),
    authenticate: () => undefined,
    auth: "sigv4",
    onError: (id, e) => console.error(`error ${id}:`, e),
  });
}

export function toRequest(event: HttpApiEvent): ApiRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) headers[k.toLowerCase()] = v;
  const body =
    event.body === undefined
      ? new Uint8Array(0)
      : event.isBase64Encoded
        ? new Uint8Array(Buffer.from(event.body, "base64"))
        : new TextEncoder().encode(event.body);
  return {
    method: event.requestContext.http.method,
    path: event.rawPath,
    query: Object.fromEntries(new URLSearchParams(event.rawQueryString ?? "")),
    headers,
    body,
  };
}

export function toResult(r: ApiResponse): HttpApiResult {
  if (typeof r.body === "string")
    return { statusCode: r.status, headers: r.headers, body: r.body, isBase64Encoded: false };
  return {
    statusCode: r.status,
    headers: r.headers,
    body: Buffer.from(r.body).toString("base64"),
    isBase64Encoded: true,
  };
}

export async function handler(event: HttpApiEvent): Promise<HttpApiResult> {
  const req = toRequest(event);
  if (req.body.length > BODY_LIMIT)
    return toResult(
      errorResponse(
        new ApiError(
          413,
          "payload_too_large",
          `the body is over ${BODY_LIMIT} bytes; upload data through POST /datasets' presigned URLs`,
        ),
      ),
    );
  api ??= build();
  return toResult(await api.router.handle(req));
}
