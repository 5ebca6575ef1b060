// A small router for the API's dozen routes: method + path template ("/jobs/{id}") → handler,
// 404 and 405 (with Allow), an authentication hook, and one place where errors become the
// error body. Chosen over the Powertools event handler because the same table has to serve
// node:http locally as well as API Gateway, and feed the OpenAPI document (openapi.ts): a
// route table of our own does all three in about a hundred lines and no dependency.

import type { z } from "zod";
import { ApiError, apiErrorOf, badRequest, errorResponse, json, type ApiRequest, type ApiResponse } from "./http.ts";

export interface RouteDoc {
  summary: string;
  /** the request body's JSON schema and media type, when there is one */
  body?: { schema: z.ZodType; type?: string };
  /** query parameters: name → description */
  query?: Record<string, string>;
  /** headers the route reads: name → description */
  headers?: Record<string, string>;
  /** success responses: status → JSON schema (null: a non-JSON body, described in `summary`) */
  responses: Record<number, z.ZodType | null>;
}

export interface Route {
  method: "GET" | "POST" | "DELETE";
  path: string;
  /** changes state: a read-only caller gets 403 */
  mutates: boolean;
  /** served without credentials (the API's own description) */
  public?: boolean;
  /** takes its body as it arrives (ApiRequest.stream), for uploads of any size */
  streamsBody?: boolean;
  doc: RouteDoc;
  handler: (req: ApiRequest, params: Record<string, string>) => Promise<ApiResponse>;
}

/** Checks the caller: throws ApiError 401 (who are you?) or 403 (not allowed), or returns. */
export type Authenticate = (req: ApiRequest, route: Pick<Route, "mutates">) => void;

function segments(path: string): string[] | null {
  const parts = path.split("/").filter((s) => s !== "");
  try {
    return parts.map((s) => decodeURIComponent(s));
  } catch {
    return null;
  }
}

function match(template: string, parts: string[]): Record<string, string> | null {
  const t = template.split("/").filter((s) => s !== "");
  if (t.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < t.length; i++) {
    const m = /^\{(\w+)\}$/.exec(t[i]);
    if (m) params[m[1]] = parts[i];
    else if (t[i] !== parts[i]) return null;
  }
  return params;
}

export interface Router {
  routes: readonly Route[];
  /** the route a request goes to, if any (before its body is read) */
  find(method: string, path: string): Route | undefined;
  handle(req: ApiRequest): Promise<ApiResponse>;
}

/** `onError` sees unexpected errors (the caller gets a 500 with an id, never the stack). */
export function router(
  routes: readonly Route[],
  authenticate: Authenticate,
  onError: (id: string, e: unknown) => void,
): Router {
  return {
    routes,
    find(method, path) {
      const parts = segments(path);
      return parts ? routes.find((r) => r.method === method.toUpperCase() && match(r.path, parts) !== null) : undefined;
    },
    async handle(req) {
      try {
        const parts = segments(req.path);
        if (!parts) throw badRequest("the path has a malformed percent-encoding");
        let allowed: string[] = [];
        for (const route of routes) {
          const params = match(route.path, parts);
          if (!params) continue;
          if (route.method !== req.method.toUpperCase()) {
            allowed.push(route.method);
            continue;
          }
          if (!route.public) authenticate(req, route);
          return await route.handler(req, params);
        }
        // a caller who is not authenticated learns nothing of which routes exist
        authenticate(req, { mutates: req.method.toUpperCase() !== "GET" });
        allowed = [...new Set(allowed)];
        if (allowed.length)
          throw new ApiError(
            405,
            "method_not_allowed",
            `${req.method} is not allowed on ${req.path.slice(0, 200)}; use ${allowed.join(" or ")}`,
            [],
            { allow: allowed.join(", ") },
          );
        throw new ApiError(404, "not_found", `no route ${req.method} ${req.path.slice(0, 200)}`);
      } catch (e) {
        const client = apiErrorOf(e);
        if (client) return errorResponse(client);
        const id = Math.random().toString(36).slice(2, 10);
        onError(id, e);
        return json(500, {
          error: {
            code: "internal",
            message: `the server failed on this request (error id ${id}); the operator's log has the details`,
            details: [],
          },
        });
      }
    },
  };
}
