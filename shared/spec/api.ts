// The HTTP API's bodies (zod): the single source of the types the handlers use and of the JSON
// Schemas in GET /openapi.json. The job body itself is the job spec (./job.ts).

import { z } from "zod";
import { JobSpec, MODEL_NAME } from "./job.ts";
import { PosteriorView } from "./posteriorView.ts";

export const Id = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/);

export const ErrorBody = z
  .object({
    error: z.object({
      code: z
        .string()
        .describe(
          "machine-readable: bad_request, invalid_spec, unauthorized, forbidden, not_found, " +
            "conflict, payload_too_large, unsupported_media_type, method_not_allowed, too_many_jobs, " +
            "internal",
        ),
      message: z.string(),
      details: z.array(
        z.object({
          path: z.string().describe('the field, dotted ("optimizer.sigma"); "" for the whole body'),
          message: z.string(),
        }),
      ),
    }),
  })
  .meta({ id: "Error" });

export const JobStatus = z.enum(["queued", "running", "succeeded", "failed", "cancelled"]);

export const Links = z.record(z.string(), z.string()).describe("related URLs, relative to the API's base");

export const Metrics = z
  .object({
    objective: z.number().nullable().describe("Φ after the latest iteration"),
    batchAccuracy: z.number().nullable().describe("θ's accuracy on the latest iteration's batch (classification)"),
  })
  .catchall(z.number().nullable());

export const JobView = z
  .object({
    id: Id,
    name: z.string(),
    status: JobStatus,
    createdAt: z.iso.datetime(),
    iteration: z.int().describe("iterations completed"),
    maxIterations: z.int(),
    progress: z.number().min(0).max(1).describe("iteration / maxIterations (1 once succeeded, whatever stopped it)"),
    etaSeconds: z
      .number()
      .nullable()
      .describe("remaining time at the pace so far; null before the first iteration or once finished"),
    metrics: Metrics,
    message: z.string().optional().describe("why the job ended (the stopping rule, the failure, or the cancel)"),
    parameters: z
      .record(z.string(), z.number())
      .optional()
      .describe("an inverse job, once succeeded: the calibrated parameters by name, in their own units"),
    posterior: PosteriorView.optional(),
    warmStart: z
      .object({ job: z.string(), model: z.string().optional(), version: z.int().optional() })
      .optional()
      .describe("where θ₀ came from (problem.initial), resolved when the job was created"),
    promotion: z
      .object({ model: z.string(), promoted: z.boolean(), version: z.int().optional(), decision: z.string() })
      .nullable()
      .optional()
      .describe("once the job has ended: what its schedule's promotion rule decided (null: it had none)"),
    links: Links,
  })
  .meta({ id: "Job" });

export const JobAccepted = z.object({ id: Id, status: JobStatus, links: Links }).meta({ id: "JobAccepted" });

export const JobList = z
  .object({
    jobs: z.array(JobView),
    nextCursor: z.string().nullable().describe("pass as ?cursor= for the next page; null on the last"),
  })
  .meta({ id: "JobList" });

export const JobHistory = z
  .object({
    id: Id,
    history: z
      .array(z.record(z.string(), z.union([z.number(), z.boolean(), z.string(), z.null()])))
      .describe("one row per iteration, the columns of history.csv"),
  })
  .meta({ id: "JobHistory" });

export const JobResult = z
  .object({
    id: Id,
    result: z
      .record(z.string(), z.unknown())
      .describe("result.json: status, message, metrics, environment, the history"),
    theta: z.object({
      url: z.string().describe("θ as .npy (float64): a path on this server, or a presigned S3 URL"),
      bytes: z.int(),
      expiresInSeconds: z.int().optional().describe("for a presigned URL"),
    }),
  })
  .meta({ id: "JobResult" });

export const DatasetKind = z.enum(["classification", "regression"]);

export const DatasetView = z
  .object({
    id: Id,
    name: z.string(),
    kind: DatasetKind,
    status: z.enum(["pending", "ready"]).describe("pending until the sharded files are uploaded (AWS)"),
    createdAt: z.iso.datetime(),
    rows: z.object({ train: z.int(), test: z.int() }).optional(),
    features: z.int().optional(),
    outputs: z.int().optional(),
    links: Links,
  })
  .meta({ id: "Dataset" });

export const DatasetList = z
  .object({ datasets: z.array(DatasetView), nextCursor: z.string().nullable() })
  .meta({ id: "DatasetList" });

/** POST /datasets on AWS: where to upload the sharded format's files. */
export const DatasetUpload = z
  .object({
    dataset: DatasetView,
    uploads: z.array(z.object({ path: z.string(), url: z.string(), method: z.literal("PUT") })),
    expiresInSeconds: z.int(),
  })
  .meta({ id: "DatasetUpload" });

export const DatasetRegistration = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/),
    kind: DatasetKind,
    /** the sharded format's files, as `enkf data` writes them (manifest.json and the shard files) */
    files: z
      .array(z.string().regex(/^[A-Za-z0-9._-]{1,128}$/))
      .min(2)
      .max(10_000),
  })
  .meta({ id: "DatasetRegistration" });

export const ScheduleExpressionText = z
  .string()
  .min(6)
  .max(256)
  .describe(
    "rate(N unit) with unit second(s) (local server only), minute(s), hour(s) or day(s); or " +
      "cron(minutes hours day-of-month month day-of-week year) as EventBridge writes it, in UTC",
  );

/** Which metric decides a promotion, and by how much the challenger must win. */
export const PromotionRule = z
  .strictObject({
    model: z
      .string()
      .regex(MODEL_NAME, "a model name")
      .describe("the model whose champion the job challenges (created by its first promotion)"),
    metric: z
      .enum(["validationLoss", "validationAccuracy"])
      .default("validationLoss")
      .describe("measured for both on the new job's validation split; validationAccuracy for classification only"),
    minImprovement: z
      .number()
      .min(0)
      .default(0)
      .describe(
        "the challenger replaces the champion when it is better by at least this much (0: when it is not worse)",
      ),
    warmStart: z
      .boolean()
      .default(true)
      .describe(
        "each firing starts from the model's champion, when it has one and the template sets no problem.initial",
      ),
    always: z
      .boolean()
      .default(false)
      .describe(
        "retrain at every firing; by default a firing is skipped (the reason recorded on the " +
          "schedule) when the dataset version and the champion are those the model's last decision, " +
          "not promoted, saw: the retrain would repeat it",
      ),
  })
  .meta({ id: "PromotionRule" });

const ValidationMetrics = z.record(z.string(), z.number());

export const ModelVersion = z
  .object({
    version: z.int().min(1),
    job: z.string(),
    dataset: z
      .object({
        source: z.string(),
        name: z.string().optional(),
        version: z.int().optional(),
        id: z.string().optional(),
      })
      .describe("the job's data: a named dataset's name and version, a dataset id, or mnist"),
    promoted: z.boolean(),
    decision: z.string().describe("why, in words, with both numbers"),
    rule: z
      .object({ metric: z.enum(["validationLoss", "validationAccuracy"]), minImprovement: z.number() })
      .nullable()
      .describe("the rule that decided; null: a manual promotion"),
    comparedWith: z
      .int()
      .nullable()
      .describe("the champion's version it was measured against; null: the first version"),
    metrics: z
      .object({ challenger: ValidationMetrics.nullable(), champion: ValidationMetrics.nullable() })
      .describe("both models on this job's validation split"),
    by: z.string().describe("who decided: a schedule, or POST /models/{name}/promote"),
    decidedAt: z.iso.datetime(),
  })
  .meta({ id: "ModelVersion" });

export const ModelView = z
  .object({
    name: z.string(),
    kind: DatasetKind,
    features: z.array(z.string()),
    outputs: z.array(z.string()),
    createdAt: z.iso.datetime(),
    champion: ModelVersion.nullable(),
    versions: z.int().describe("decisions recorded"),
    links: Links,
  })
  .meta({ id: "Model" });

export const ModelList = z.object({ models: z.array(ModelView) }).meta({ id: "ModelList" });
export const ModelVersionList = z
  .object({ name: z.string(), champion: z.int().nullable(), versions: z.array(ModelVersion) })
  .meta({ id: "ModelVersionList" });
export const PromoteRequest = z
  .strictObject({
    job: z
      .string()
      .min(1)
      .max(128)
      .describe("a succeeded job of this service whose model has the model's features and outputs"),
  })
  .meta({ id: "PromoteRequest" });

export type ModelVersion = z.infer<typeof ModelVersion>;
export type ModelView = z.infer<typeof ModelView>;

export const ScheduleCreate = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/),
    expression: ScheduleExpressionText,
    template: JobSpec.describe("the job each firing submits"),
    promote: PromotionRule.optional().describe(
      "after each firing's job succeeds, promote it to the model's champion when it is not worse " +
        "on its validation split",
    ),
  })
  .meta({ id: "ScheduleCreate" });

export const ScheduleView = z
  .object({
    id: Id,
    name: z.string(),
    expression: z.string(),
    createdAt: z.iso.datetime(),
    nextRunAt: z.iso.datetime().nullable(),
    firings: z.int().describe("jobs this schedule has submitted (local server)"),
    lastSkipped: z
      .object({ at: z.iso.datetime(), reason: z.string() })
      .nullable()
      .optional()
      .describe("the latest firing that started no job because nothing had changed since the model's last decision"),
    links: Links,
  })
  .meta({ id: "Schedule" });

export const ScheduleList = z.object({ schedules: z.array(ScheduleView) }).meta({ id: "ScheduleList" });

export type JobView = z.infer<typeof JobView>;
export type JobStatus = z.infer<typeof JobStatus>;
export type DatasetView = z.infer<typeof DatasetView>;
export type ScheduleView = z.infer<typeof ScheduleView>;
export type ScheduleCreate = z.infer<typeof ScheduleCreate>;
export type PromotionRule = z.infer<typeof PromotionRule>;
