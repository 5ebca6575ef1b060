// The API's job routes: submit (or a dry run's estimate), list, status, history, result, θ,
// predictions, the model as ONNX, the report, and cancel.

import { z } from "zod";
import { JobAccepted, JobHistory, JobList, JobResult, JobView } from "../spec/api.ts";
import { JobSpec } from "../spec/job.ts";
import {
  ApiError,
  badRequest,
  intParam,
  json,
  jsonBody,
  mediaType,
  parseJson,
  type ApiRequest,
  download,
} from "./http.ts";
import type { Route } from "./router.ts";
import type { Service } from "../service/service.ts";
import { DataError } from "../data/errors.ts";
import { exportOnnx } from "../predict/onnxExport.ts";
import { predict, predictionsJson, rowsFromCsv, rowsFromObjects, type Rows } from "../predict/predict.ts";

const PredictBody = z
  .strictObject({
    rows: z
      .array(z.record(z.string(), z.unknown()))
      .min(1)
      .max(100_000)
      .describe("one object per row: the feature columns by name"),
    probabilities: z.boolean().optional(),
  })
  .meta({ id: "PredictRows" });
const PredictAnswer = z
  .object({
    id: z.string(),
    kind: z.enum(["classification", "regression"]),
    outputs: z.array(z.string()),
    iteration: z.int(),
    predictions: z
      .array(z.record(z.string(), z.unknown()))
      .describe("per row: { label, probabilities? } or the targets by name"),
  })
  .meta({ id: "Predictions" });

const DryRun = z
  .object({ dryRun: z.literal(true), shards: z.int(), memoryMb: z.int(), estimate: z.record(z.string(), z.unknown()) })
  .meta({ id: "DryRun" });

export function jobRoutes(service: Service): Route[] {
  const idempotencyKey = (req: ApiRequest) => req.headers["idempotency-key"];
  return [
    {
      method: "POST",
      path: "/jobs",
      mutates: true,
      doc: {
        summary:
          "Submit a job (the job spec). Answers 202 with the job's id and links; the same " +
          "Idempotency-Key and body return the same job, a different body 409.",
        body: { schema: JobSpec },
        headers: { "Idempotency-Key": "makes the submit safe to retry" },
        query: {
          dryRun: "true: start nothing; answer 200 with the AWS cost estimate (enkf plan's)",
          memory: "dryRun: Lambda memory in MB (default 3008)",
        },
        responses: { 202: JobAccepted, 200: DryRun },
      },
      async handler(req) {
        if (mediaType(req) !== "application/json")
          throw new ApiError(415, "unsupported_media_type", "send the job spec as application/json");
        const body = parseJson(req.body);
        if (req.query.dryRun !== undefined && req.query.dryRun !== "false") {
          if (req.query.dryRun !== "true")
            throw badRequest("dryRun is true or false", [
              { path: "dryRun", message: `got "${req.query.dryRun.slice(0, 20)}"` },
            ]);
          return json(200, await service.jobs.plan(body, intParam(req, "memory", 3008, 128, 10_240)));
        }
        const { id, created } = await service.jobs.submit(body, idempotencyKey(req));
        const { status } = await service.jobs.status(id);
        // a repeat with the same key and body answers as the first submit did, marked as a replay
        return json(
          202,
          { id, status, links: service.jobs.links(id) },
          { location: `/jobs/${id}`, ...(created ? {} : { "idempotent-replayed": "true" }) },
        );
      },
    },
    {
      method: "GET",
      path: "/jobs",
      mutates: false,
      doc: {
        summary: "List jobs, newest first.",
        query: { limit: "1–100 (default 20)", cursor: "nextCursor of the previous page" },
        responses: { 200: JobList },
      },
      async handler(req) {
        return json(200, await service.jobs.list(intParam(req, "limit", 20, 1, 100), req.query.cursor || undefined));
      },
    },
    {
      method: "GET",
      path: "/jobs/{id}",
      mutates: false,
      doc: { summary: "A job's status, iteration, latest metrics, progress and ETA.", responses: { 200: JobView } },
      handler: async (_req, p) => json(200, await service.jobs.view(p.id)),
    },
    {
      method: "GET",
      path: "/jobs/{id}/history",
      mutates: false,
      doc: { summary: "The job's history: one row per completed iteration.", responses: { 200: JobHistory } },
      handler: async (_req, p) => json(200, await service.jobs.history(p.id)),
    },
    {
      method: "GET",
      path: "/jobs/{id}/result",
      mutates: false,
      doc: {
        summary:
          "result.json and where to fetch θ (.npy): a path on this server, or a presigned S3 URL. " +
          "409 until the job has succeeded.",
        responses: { 200: JobResult },
      },
      handler: async (_req, p) =>
        json(200, { id: p.id, ...(await service.jobs.result(p.id, `/jobs/${p.id}/theta.npy`)) }),
    },
    {
      method: "GET",
      path: "/jobs/{id}/theta.npy",
      mutates: false,
      doc: { summary: "θ as a float64 .npy file (application/octet-stream).", responses: { 200: null } },
      handler: async (_req, p) => download(`${p.id}-theta.npy`, await service.jobs.theta(p.id)),
    },
    {
      method: "GET",
      path: "/jobs/{id}/samples.npy",
      mutates: false,
      doc: {
        summary:
          "The ensemble Kalman sampler's particles (method eks): a J × n float64 .npy in the parameters' units. " +
          "409 for other jobs, and until the job has succeeded.",
        responses: { 200: null },
      },
      handler: async (_req, p) => download(`${p.id}-samples.npy`, await service.jobs.samples(p.id)),
    },
    {
      method: "POST",
      path: "/jobs/{id}/predict",
      mutates: false,
      doc: {
        summary:
          "Apply the job's trained model (model.json, theta.npy: the best θ) to raw rows: " +
          "application/json { rows: [{ column: value, … }], probabilities? } or text/csv with a " +
          "header (columns by name, in any order; the label column may stay). The training " +
          "standardization is applied. Answers the labels in the class names (with probabilities: " +
          "per class) or the targets. 400 names the bad row and column; 409 until the job has " +
          "succeeded.",
        body: { schema: PredictBody, type: "application/json" },
        query: { probabilities: "true: also the class probabilities (classification)" },
        responses: { 200: PredictAnswer },
      },
      async handler(req, p) {
        const { card, theta } = await service.jobs.model(p.id);
        const type = mediaType(req);
        let rows: Rows;
        let probabilities = req.query.probabilities === "true";
        try {
          if (type === "text/csv") {
            let text: string;
            try {
              text = new TextDecoder("utf-8", { fatal: true }).decode(req.body);
            } catch {
              throw badRequest("the CSV is not UTF-8 text");
            }
            rows = rowsFromCsv(card, text, "the CSV");
          } else if (type === "application/json") {
            const body = jsonBody(req, PredictBody);
            probabilities ||= body.probabilities ?? false;
            rows = rowsFromObjects(card, body.rows, "rows");
          } else {
            throw new ApiError(
              415,
              "unsupported_media_type",
              `send the rows as application/json ({ "rows": [ … ] }) or ` +
                `text/csv${type ? `; got ${type}` : "; the request has no Content-Type"}`,
            );
          }
        } catch (e) {
          if (e instanceof DataError) throw badRequest(e.message, [{ path: "rows", message: e.message }]);
          throw e;
        }
        const predictions = predictionsJson(card, predict(card, theta, rows), probabilities);
        return json(200, { id: p.id, kind: card.kind, outputs: card.outputs, iteration: card.iteration, predictions });
      },
    },
    {
      method: "GET",
      path: "/jobs/{id}/model.onnx",
      mutates: false,
      doc: {
        summary:
          "The trained model as a standalone ONNX file (application/octet-stream), as enkf export " +
          "writes it: input x [batch, features] of raw rows (standardized inside), outputs logits, " +
          "probabilities and label, or output (regression). 409 until the job has succeeded.",
        responses: { 200: null },
      },
      async handler(_req, p) {
        const { card, theta } = await service.jobs.model(p.id);
        return download(`${p.id}-model.onnx`, exportOnnx(card, theta));
      },
    },
    {
      method: "GET",
      path: "/jobs/{id}/report",
      mutates: false,
      doc: {
        summary:
          "The run report as one self-contained HTML page (text/html): plots, spec, final metrics, " +
          "timing, environment. 409 until the job has succeeded.",
        responses: { 200: null },
      },
      handler: async (_req, p) => ({
        status: 200,
        headers: { "content-type": "text/html; charset=utf-8" },
        body: await service.jobs.report(p.id),
      }),
    },
    {
      method: "DELETE",
      path: "/jobs/{id}",
      mutates: true,
      doc: {
        summary:
          "Cancel the job: its execution stops, completed iterations are kept, and its status " +
          "becomes cancelled. 409 once it has finished.",
        responses: { 200: JobView },
      },
      handler: async (_req, p) => json(200, await service.jobs.cancel(p.id)),
    },
  ];
}
