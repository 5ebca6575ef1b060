// GET /openapi.json: the OpenAPI 3.1 document generated from the route table and its zod schemas
// (JSON Schema 2020-12, OpenAPI 3.1's dialect), so the description cannot drift from the code.

import { z } from "zod";
import { ErrorBody } from "../spec/api.ts";
import type { Route } from "./router.ts";

type Json = Record<string, unknown>;

/** JSON Schema for one zod schema; nested named schemas go to `components` and are referenced. */
function schemaOf(schema: z.ZodType, components: Json, io: "input" | "output"): Json {
  const out = z.toJSONSchema(schema, { target: "draft-2020-12", io, unrepresentable: "any" }) as Json;
  delete out.$schema;
  const defs = (out.$defs ?? {}) as Json;
  delete out.$defs;
  for (const [name, def] of Object.entries(defs)) components[name] ??= def;
  const id = typeof out.id === "string" ? out.id : undefined;
  delete out.id;
  const text = JSON.stringify(out).replaceAll('"#/$defs/', '"#/components/schemas/');
  const fixed = JSON.parse(text) as Json;
  for (const [name, def] of Object.entries(components))
    components[name] = JSON.parse(JSON.stringify(def).replaceAll('"#/$defs/', '"#/components/schemas/'));
  if (!id) return fixed;
  components[id] ??= fixed;
  return { $ref: `#/components/schemas/${id}` };
}

const ERRORS: Record<number, string> = {
  400: "malformed JSON or an invalid body; details name every field",
  401: "no or wrong credentials",
  403: "the credentials may not do this",
  404: "no such route or object",
  409: "an idempotency conflict, or the job's state does not allow this",
  413: "the body is over the limit",
  415: "the body's media type is not accepted",
  429: "too many jobs queued or running on this server",
};

export function openApiDocument(
  routes: readonly Route[],
  opts: { title?: string; version?: string; auth: "bearer" | "sigv4" },
): Json {
  const components: Json = {};
  const error = schemaOf(ErrorBody, components, "output");
  const paths: Record<string, Json> = {};
  for (const r of routes) {
    const params: Json[] = [];
    for (const m of r.path.matchAll(/\{(\w+)\}/g))
      params.push({ name: m[1], in: "path", required: true, schema: { type: "string" } });
    for (const [name, description] of Object.entries(r.doc.query ?? {}))
      params.push({ name, in: "query", required: false, description, schema: { type: "string" } });
    for (const [name, description] of Object.entries(r.doc.headers ?? {}))
      params.push({ name, in: "header", required: false, description, schema: { type: "string" } });
    const responses: Json = {};
    for (const [status, schema] of Object.entries(r.doc.responses)) {
      responses[status] = schema
        ? {
            description: r.doc.summary.split(".")[0],
            content: { "application/json": { schema: schemaOf(schema, components, "output") } },
          }
        : { description: r.doc.summary.split(".")[0] };
    }
    for (const [status, description] of Object.entries(ERRORS)) {
      if (r.public && (status === "401" || status === "403")) continue;
      responses[status] ??= { description, content: { "application/json": { schema: error } } };
    }
    const operation: Json = {
      operationId: `${r.method.toLowerCase()}${r.path
        .replace(/\{(\w+)\}/g, "By-$1")
        .split(/[/.-]/)
        .filter(Boolean)
        .map((s) => s[0].toUpperCase() + s.slice(1))
        .join("")}`,
      summary: r.doc.summary,
      ...(params.length ? { parameters: params } : {}),
      ...(r.doc.body
        ? {
            requestBody: {
              required: true,
              content: {
                [r.doc.body.type ?? "application/json"]: { schema: schemaOf(r.doc.body.schema, components, "input") },
              },
            },
          }
        : {}),
      responses,
      ...(r.public ? { security: [] } : {}),
    };
    (paths[r.path] ??= {})[r.method.toLowerCase()] = operation;
  }
  const securitySchemes =
    opts.auth === "bearer"
      ? { bearer: { type: "http", scheme: "bearer", description: "the token enkf serve prints (or ENKF_TOKEN)" } }
      : {
          sigv4: {
            type: "apiKey",
            in: "header",
            name: "Authorization",
            description: "AWS Signature Version 4 (IAM), or a JWT when the API has the JWT authorizer",
          },
        };
  return {
    openapi: "3.1.0",
    info: {
      title: opts.title ?? "enkf-service",
      version: opts.version ?? "0.1.0",
      description:
        "Batch optimization with the modified Ensemble Kalman Filter: submit, watch, fetch and " +
        "cancel jobs; register datasets; schedule retraining.",
    },
    paths,
    components: { schemas: components, securitySchemes },
    security: [{ [Object.keys(securitySchemes)[0]]: [] }],
  };
}
