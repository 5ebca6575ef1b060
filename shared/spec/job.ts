// The job spec: the single source of truth for job types (z.infer), validation, and the
// JSON Schema that `enkf schema` prints. Every object is strict: unknown keys are errors.

import { z } from "zod";

import { ProblemSpec, type InverseProblem } from "./problemSpec.ts";
import { OptimizerSpec, DEFAULT_GAMMA } from "./optimizerSpec.ts";
import { ComputeSpec, StopSpec } from "./runSpec.ts";

export * from "./dataSpec.ts";
export * from "./problemSpec.ts";
export * from "./optimizerSpec.ts";
export * from "./runSpec.ts";

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Fills the defaults that depend on other fields into a job (input as written): the method, γ by
 *  problem, and for network problems the evaluation and early stopping of DEFAULT_NETWORK_STOP. */
function jobDefaults(input: unknown): unknown {
  // optimizer.method defaults to the modified EnKF (so its fields, not the discriminator, get the errors)
  const raw =
    isRecord(input) && isRecord(input.optimizer) && input.optimizer.method === undefined
      ? { ...input, optimizer: { method: "modified-enkf", ...input.optimizer } }
      : input;
  if (!isRecord(raw) || !isRecord(raw.problem)) return raw;
  const type = raw.problem.type;
  if (type !== "classification" && type !== "regression") return raw;
  let job: Record<string, unknown> = raw;
  if (isRecord(raw.optimizer) && raw.optimizer.method === "modified-enkf" && raw.optimizer.gamma === undefined)
    job = { ...job, optimizer: { ...raw.optimizer, gamma: DEFAULT_GAMMA[type] } };
  const stop = raw.stop === undefined ? {} : raw.stop;
  if (isRecord(stop)) {
    job = {
      ...job,
      stop: {
        ...stop,
        evaluateEvery: stop.evaluateEvery ?? DEFAULT_NETWORK_STOP.evaluateEvery,
        earlyStopping: stop.earlyStopping ?? {},
      },
    };
  }
  return job;
}

/** Network problems evaluate on the full splits every 10 iterations, keep the best θ by the
 *  validation loss and stop early after 10 evaluations without an improvement. */
export const DEFAULT_NETWORK_STOP = {
  evaluateEvery: 10,
  earlyStopping: { metric: "validationLoss", patience: 10, minDelta: 0 },
} as const;

/** Parameters a Laplace posterior fits by least squares when K < n (n(n+1)/2 unknowns; laplace.ts). */
export const LAPLACE_FIT_PARAMETERS = 50;

/** The Laplace posterior comes from the modified EnKF's statistics; with K < n, for at most
 *  LAPLACE_FIT_PARAMETERS parameters. */
function laplaceChecks(problem: InverseProblem, optimizer: OptimizerSpec, ctx: z.RefinementCtx): void {
  const asked = problem.posterior;
  if (asked === "none" || (asked === undefined && optimizer.method !== "modified-enkf")) return;
  if (optimizer.method !== "modified-enkf") {
    ctx.addIssue({
      code: "custom",
      path: ["problem", "posterior"],
      message:
        `the Laplace posterior is formed from the modified EnKF's ensemble statistics; method ` +
        `"${optimizer.method}" has none (use method "modified-enkf", or "eks" for samples)`,
    });
    return;
  }
  const n = problem.parameters.length;
  if (optimizer.ensembleSize < n && n > LAPLACE_FIT_PARAMETERS)
    ctx.addIssue({
      code: "custom",
      path: ["optimizer", "ensembleSize"],
      message:
        `the Laplace posterior of ${n} parameters needs ensembleSize ≥ ${n} (with fewer members it is ` +
        `fitted from several draws, for at most ${LAPLACE_FIT_PARAMETERS} parameters), or problem.posterior "none"`,
    });
}

/** The sampler samples an inverse problem's posterior, which needs its prior; its ensemble must
 *  span the parameters with room for the noise (J ≥ n + 2). */
function samplerChecks(problem: ProblemSpec, particles: number, ctx: z.RefinementCtx): void {
  if (problem.type !== "inverse") {
    ctx.addIssue({
      code: "custom",
      path: ["optimizer", "method"],
      message:
        `the ensemble Kalman sampler samples an inverse problem's posterior; problem "${problem.type}" ` + `is not one`,
    });
    return;
  }
  if (!problem.prior)
    ctx.addIssue({
      code: "custom",
      path: ["problem", "prior"],
      message: "the ensemble Kalman sampler samples the posterior, which needs the prior (set prior true)",
    });
  const n = problem.parameters.length;
  if (particles < n + 2)
    ctx.addIssue({
      code: "custom",
      path: ["optimizer", "ensembleSize"],
      message:
        `the sampler's ${particles} particles cannot span ${n} parameters and sample around them: use at ` +
        `least n + 2 = ${n + 2} (and hundreds to trust its intervals; docs/method.md#uncertainty)`,
    });
}

export const JobFields = z
  .strictObject({
    $schema: z.string().optional(),
    name: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
        "use 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit",
      ),
    description: z.string().max(2000).optional(),
    problem: ProblemSpec,
    optimizer: OptimizerSpec,
    stop: StopSpec.prefault({}),
    compute: ComputeSpec.prefault({}),
  })
  .superRefine((job, ctx) => {
    if (job.optimizer.method === "modified-enkf" && job.optimizer.momentum !== undefined && job.optimizer.lineSearch)
      ctx.addIssue({
        code: "custom",
        path: ["optimizer", "momentum"],
        message:
          "momentum needs lineSearch false: the Armijo test knows the slope of this iteration's direction " +
          "only, not of the momentum it adds",
      });
    const p = job.optimizer.method === "modified-enkf" ? job.optimizer.perturbation : "gaussian";
    if (typeof p !== "string" && job.problem.type !== "classification" && job.problem.type !== "regression") {
      ctx.addIssue({
        code: "custom",
        path: ["optimizer", "perturbation"],
        message:
          `low-rank perturbations factor a network's dense weight matrices; problem ` +
          `"${job.problem.type}" has none (use "gaussian" or "rademacher")`,
      });
    }
    const network = job.problem.type === "classification" || job.problem.type === "regression";
    const prob = job.problem;
    if ((prob.type === "classification" || prob.type === "regression") && prob.data.source === "dataset") {
      const d = prob.data;
      // a job the service created carries both: the name, the version it resolved to and that version's id
      const pinned = d.name !== undefined && typeof d.version === "number";
      if (d.id === undefined ? d.name === undefined : d.name !== undefined && !pinned)
        ctx.addIssue({
          code: "custom",
          path: ["problem", "data"],
          message:
            "a registered dataset is named by id (POST /datasets) or by name (POST " +
            "/datasets/{name}/versions), one of the two",
        });
      if (d.version !== undefined && d.name === undefined)
        ctx.addIssue({ code: "custom", path: ["problem", "data", "version"], message: "version goes with name" });
    }
    if (job.stop.earlyStopping && !network) {
      ctx.addIssue({
        code: "custom",
        path: ["stop", "earlyStopping"],
        message:
          `early stopping watches a validation split; problem "${job.problem.type}" has no data (use ` +
          `tolerance or targetObjective)`,
      });
    }
    if (job.stop.earlyStopping && job.stop.evaluateEvery === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["stop", "evaluateEvery"],
        message: "early stopping needs evaluations: set stop.evaluateEvery",
      });
    }
    if (
      job.compute.memberBlocks !== undefined &&
      (job.problem.type !== "inverse" || job.optimizer.method === "gradient-descent")
    ) {
      ctx.addIssue({
        code: "custom",
        path: ["compute", "memberBlocks"],
        message:
          "member blocks fan out an inverse problem's forward evaluations for the modified EnKF, EKI or " +
          "the sampler (network problems fan out over data: compute.shards)",
      });
    }
    if (job.compute.shards !== undefined && job.problem.type === "inverse") {
      ctx.addIssue({
        code: "custom",
        path: ["compute", "shards"],
        message: "an inverse problem has no data to shard: fan its members out with compute.memberBlocks",
      });
    }
    if (job.problem.type === "inverse") laplaceChecks(job.problem, job.optimizer, ctx);
    if (job.optimizer.method === "eks") samplerChecks(job.problem, job.optimizer.ensembleSize, ctx);
    if (job.stop.discrepancy && job.problem.type !== "regression") {
      ctx.addIssue({
        code: "custom",
        path: ["stop", "discrepancy"],
        message:
          `the discrepancy principle compares a least-squares misfit with the targets' noise level; ` +
          `it needs problem.type "regression" (this is "${job.problem.type}")`,
      });
    }
  });

/** A job as written, validated, with every default filled in (γ's by problem). */
export const JobSpec = z.preprocess(jobDefaults, JobFields);

export type JobSpec = z.infer<typeof JobSpec>;
export type JobSpecInput = z.input<typeof JobFields>;

/** The problem's ½α‖θ‖² weight (0 where it has none: an inverse problem has its prior instead). */
export const problemRegularization = (p: ProblemSpec): number => ("regularization" in p ? p.regularization : 0);
