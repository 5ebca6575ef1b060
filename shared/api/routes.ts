// The API's routes: each parses its input (zod), calls the service and shapes the answer. The
// table also documents itself: openapi.ts turns the `doc` parts into GET /openapi.json.

import { z } from "zod";
import {
  DatasetList,
  DatasetRegistration,
  DatasetUpload,
  DatasetView,
  JobAccepted,
  JobHistory,
  JobList,
  JobResult,
  JobView,
  ModelList,
  ModelVersion,
  ModelVersionList,
  ModelView,
  PromoteRequest,
  ScheduleCreate,
  ScheduleList,
  ScheduleView,
} from "../spec/api.ts";
import { DATASET_NAME, JobSpec } from "../spec/job.ts";
import {
  ApiError,
  badRequest,
  bodyPieces,
  intParam,
  json,
  jsonBody,
  mediaType,
  parseJson,
  type ApiRequest,
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

const RegistrationBody = DatasetRegistration.extend({
  files: z
    .array(
      z.strictObject({ path: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
    )
    .min(2)
    .max(10_000),
});

const VersionRegistration = z
  .strictObject({
    kind: z.enum(["classification", "regression"]),
    columns: z
      .strictObject({ features: z.array(z.string()).min(1), label: z.string().optional() })
      .describe(
        "the columns of the manifest being uploaded (as enkf data writes them); checked against " +
          "version 1's now, and against the manifest when the version is read",
      ),
    files: RegistrationBody.shape.files,
  })
  .meta({ id: "DatasetVersionRegistration" });

const DatasetVersionView = z
  .object({ name: z.string(), version: z.int(), dataset: DatasetView })
  .meta({ id: "DatasetVersion" });
const DatasetVersionUpload = z
  .object({
    name: z.string(),
    version: z.int(),
    dataset: DatasetView,
    uploads: DatasetUpload.shape.uploads,
    expiresInSeconds: z.int(),
  })
  .meta({ id: "DatasetVersionUpload" });
const DatasetVersionList = z
  .object({ name: z.string(), versions: z.array(DatasetVersionView) })
  .meta({ id: "DatasetVersionList" });

/** A CSV upload's body (streamed) and query (label, kind, testFraction, seed); 400 names every bad parameter. */
function csvUpload(
  req: ApiRequest,
  problems: { path: string; message: string }[],
): {
  source: AsyncIterable<Uint8Array>;
  opts: { label: string; kind: "classification" | "regression"; testFraction: number; seed: number };
} {
  const label = req.query.label ?? "";
  const kind = req.query.kind ?? "classification";
  if (label === "") problems.push({ path: "label", message: "required: the name of the label column (?label=…)" });
  if (kind !== "classification" && kind !== "regression")
    problems.push({ path: "kind", message: `must be classification or regression, got "${kind.slice(0, 40)}"` });
  const testFraction = req.query.testFraction === undefined ? 0.2 : Number(req.query.testFraction);
  if (!(testFraction >= 0 && testFraction < 1))
    problems.push({
      path: "testFraction",
      message: `must be a number in [0, 1), got "${String(req.query.testFraction).slice(0, 40)}"`,
    });
  if (problems.length) throw badRequest("the upload's query parameters are not valid", problems);
  return {
    source: bodyPieces(req),
    opts: {
      label,
      kind: kind as "classification" | "regression",
      testFraction,
      seed: intParam(req, "seed", 0, 0, 2 ** 32 - 1),
    },
  };
}

/** A model's ONNX file as a download. */
const onnxFile = (filename: string, body: Uint8Array) => ({
  status: 200,
  headers: { "content-type": "application/octet-stream", "content-disposition": `attachment; filename="${filename}"` },
  body,
});

export function apiRoutes(service: Service, openapi: () => unknown): Route[] {
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
      async handler(_req, p) {
        const bytes = await service.jobs.theta(p.id);
        return {
          status: 200,
          headers: {
            "content-type": "application/octet-stream",
            "content-disposition": `attachment; filename="${p.id}-theta.npy"`,
          },
          body: bytes,
        };
      },
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
        return onnxFile(`${p.id}-model.onnx`, exportOnnx(card, theta));
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
    {
      method: "POST",
      path: "/datasets",
      mutates: true,
      streamsBody: true,
      doc: {
        summary:
          "Register a dataset. text/csv: the upload itself (query name, label, kind, testFraction, " +
          "seed), stored in the sharded format. application/json: a registration of the sharded " +
          "format's files, answered with presigned upload URLs (S3 stores).",
        body: { schema: RegistrationBody, type: "application/json" },
        query: {
          name: "text/csv: the dataset's name",
          label: "text/csv: the label column",
          kind: "text/csv: classification (default) or regression",
          testFraction: "text/csv: held-out fraction (default 0.2)",
          seed: "text/csv: split seed (default 0)",
        },
        responses: { 201: z.union([DatasetView, DatasetUpload]) },
      },
      async handler(req) {
        const type = mediaType(req);
        if (type === "text/csv") {
          const name = req.query.name ?? "";
          const { source, opts } = csvUpload(
            req,
            DATASET_NAME.test(name)
              ? []
              : [
                  {
                    path: "name",
                    message:
                      name === ""
                        ? "required: the dataset's name (?name=…), 1–64 letters, digits, '.', '_' or '-'"
                        : "1–64 letters, digits, '.', '_' or '-', starting with a letter or digit",
                  },
                ],
          );
          const view = await service.datasets.uploadCsv(source, { name, ...opts });
          return json(201, view, { location: `/datasets/${view.id}` });
        }
        if (type !== "application/json")
          throw new ApiError(
            415,
            "unsupported_media_type",
            `send the data as text/csv (a CSV upload, with name and label in the query) or ` +
              `application/json (a registration of sharded ` +
              `files)${type ? `; got ${type}` : "; the request has no Content-Type"}`,
          );
        const body = jsonBody(req, RegistrationBody);
        return json(201, await service.datasets.registerUpload(body));
      },
    },
    {
      method: "POST",
      path: "/datasets/{name}/versions",
      mutates: true,
      streamsBody: true,
      doc: {
        summary:
          "Add a version to the named dataset {name} (created by its first version): text/csv, with " +
          "label, kind, testFraction and seed in the query as for POST /datasets; or, on S3 stores, " +
          "application/json { kind, columns, files } answered with presigned upload URLs as POST " +
          '/datasets answers ("latest" skips a version until its files are uploaded). A version is ' +
          "immutable; one whose columns differ from version 1's is refused (400, naming the " +
          "columns). Jobs name it with { source: dataset, name, version: latest | n }.",
        body: { schema: VersionRegistration, type: "application/json" },
        query: {
          label: "the label column",
          kind: "classification (default) or regression",
          testFraction: "held-out fraction (default 0.2)",
          seed: "split seed (default 0)",
        },
        responses: { 201: z.union([DatasetVersionView, DatasetVersionUpload]) },
      },
      async handler(req, p) {
        if (mediaType(req) === "application/json") {
          const v = await service.datasets.registerVersion(p.name, jsonBody(req, VersionRegistration));
          return json(201, v, { location: `/datasets/${p.name}/versions` });
        }
        if (mediaType(req) !== "text/csv")
          throw new ApiError(
            415,
            "unsupported_media_type",
            "send the version as text/csv, with the label column in the query, or as application/json " +
              "{ kind, columns, files } for presigned uploads (S3 stores)",
          );
        const { source, opts } = csvUpload(req, []);
        const v = await service.datasets.addVersion(p.name, source, opts);
        return json(201, v, { location: `/datasets/${p.name}/versions` });
      },
    },
    {
      method: "GET",
      path: "/datasets/{name}/versions",
      mutates: false,
      doc: {
        summary: "The versions of a named dataset, oldest first: each its number and its dataset.",
        responses: { 200: DatasetVersionList },
      },
      handler: async (_req, p) => json(200, { name: p.name, versions: await service.datasets.versions(p.name) }),
    },
    {
      method: "GET",
      path: "/datasets",
      mutates: false,
      doc: {
        summary: "List registered datasets, oldest first, a page at a time.",
        query: { limit: "1–100 (default 20)", cursor: "nextCursor of the previous page" },
        responses: { 200: DatasetList },
      },
      handler: async (req) =>
        json(200, await service.datasets.list(intParam(req, "limit", 20, 1, 100), req.query.cursor || undefined)),
    },
    {
      method: "GET",
      path: "/datasets/{id}",
      mutates: false,
      doc: {
        summary: "A registered dataset: pending until its files are uploaded, then ready.",
        responses: { 200: DatasetView },
      },
      handler: async (_req, p) => json(200, await service.datasets.get(p.id)),
    },
    {
      method: "GET",
      path: "/models",
      mutates: false,
      doc: {
        summary: "List models: each a named pointer to its champion job, created by its first promotion.",
        responses: { 200: ModelList },
      },
      handler: async () => json(200, { models: await service.models.list() }),
    },
    {
      method: "GET",
      path: "/models/{name}",
      mutates: false,
      doc: {
        summary:
          "A model: its champion (job, dataset version, metrics, when and by whom promoted) and how " +
          "many decisions it has.",
        responses: { 200: ModelView },
      },
      handler: async (_req, p) => json(200, await service.models.get(p.name)),
    },
    {
      method: "GET",
      path: "/models/{name}/versions",
      mutates: false,
      doc: {
        summary:
          "Every decision about the model, oldest first: the job, its dataset version, both models' " +
          "metrics on the job's validation split, promoted or not and why, when and by whom.",
        responses: { 200: ModelVersionList },
      },
      handler: async (_req, p) => json(200, await service.models.versions(p.name)),
    },
    {
      method: "GET",
      path: "/models/{name}/model.onnx",
      mutates: false,
      doc: {
        summary:
          "The champion as a standalone ONNX file (as GET /jobs/{id}/model.onnx writes it). 409 " +
          "while the model has no champion.",
        responses: { 200: null },
      },
      async handler(_req, p) {
        const { card, theta, version } = await service.models.championModel(p.name);
        return onnxFile(`${p.name}-v${version}.onnx`, exportOnnx(card, theta));
      },
    },
    {
      method: "POST",
      path: "/models/{name}/promote",
      mutates: true,
      doc: {
        summary:
          "Make a succeeded job the model's champion by hand (the model is created if it does not " +
          "exist). Both models are measured on the job's validation split and the numbers recorded; " +
          "the pointer is replaced by a conditional write, so racing promotions are each recorded. " +
          "400 when the job's model has other features or outputs, 404 for an unknown job, 409 when " +
          "the job has not succeeded.",
        body: { schema: PromoteRequest },
        responses: { 200: ModelVersion },
      },
      async handler(req, p) {
        const body = jsonBody(req, PromoteRequest);
        return json(
          200,
          await service.models.promote(p.name, body.job, { rule: null, by: "POST /models/{name}/promote" }),
        );
      },
    },
    {
      method: "POST",
      path: "/schedules",
      mutates: true,
      doc: {
        summary: "Schedule a job template on a rate or cron expression.",
        body: { schema: ScheduleCreate },
        responses: { 201: ScheduleView },
      },
      async handler(req) {
        // a schedule's template is a job spec; the rest is the schedule's own
        const view = await service.schedules.create(
          jsonBody(req, ScheduleCreate, "bad_request", (path) =>
            path[0] === "template"
              ? "the job spec"
              : path[0] === "promote"
                ? "a schedule's promotion rule"
                : "a schedule",
          ),
        );
        return json(201, view, { location: `/schedules/${view.id}` });
      },
    },
    {
      method: "GET",
      path: "/schedules",
      mutates: false,
      doc: { summary: "List schedules.", responses: { 200: ScheduleList } },
      handler: async () => json(200, { schedules: await service.schedules.list() }),
    },
    {
      method: "DELETE",
      path: "/schedules/{id}",
      mutates: true,
      doc: { summary: "Delete a schedule (jobs it submitted are not touched).", responses: { 204: null } },
      async handler(_req, p) {
        await service.schedules.delete(p.id);
        return { status: 204, headers: {}, body: "" };
      },
    },
    {
      method: "GET",
      path: "/openapi.json",
      mutates: false,
      public: true,
      doc: { summary: "This document.", responses: { 200: null } },
      handler: async () => json(200, openapi()),
    },
  ];
}
