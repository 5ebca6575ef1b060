// The job spec's problems: test functions, classification and regression on data, inverse problems and their forwards.

import { z } from "zod";
import { positive, regularization, seed } from "./fields.ts";
import { DataSpec, MODEL_NAME, ModelSpec } from "./dataSpec.ts";

export const QuadraticProblem = z
  .strictObject({
    type: z.literal("quadratic"),
    dimension: z.int().min(1).max(10_000_000).default(100).describe("number of parameters n"),
    condition: z.number().min(1).max(1e16).default(100).describe("condition number of the Hessian"),
    spectrum: z
      .enum(["harmonic", "geometric", "linear"])
      .default("harmonic")
      .describe("eigenvalue distribution between condition and 1"),
    seed: seed.default(0),
    regularization,
  })
  .describe("seeded linear least squares with a known minimiser θ* and θ₀ = 0");

export const OscillatoryProblem = z
  .strictObject({
    type: z.literal("oscillatory"),
    dimension: z.int().min(1).max(1_000_000).default(10),
    amplitude: positive.default(10).describe("A: Φ = ½‖θ−c‖² + A Σ sin²(πf(θ_i−c_i))"),
    frequency: positive.default(1).describe("f, oscillations per unit length"),
    start: z.number().default(3.2).describe("θ₀ = c + start in every coordinate"),
    seed: seed.default(0),
    regularization,
  })
  .describe("convex bowl plus high-frequency oscillation (Rastrigin-like); global minimiser known");

export const RosenbrockProblem = z
  .strictObject({
    type: z.literal("rosenbrock"),
    dimension: z.int().min(2).max(1_000_000).default(2),
    regularization,
  })
  .describe("chained Rosenbrock written as residuals; minimiser (1, …, 1)");

/**
 * A warm start (shared/predict/warmStart.ts): θ₀ from a finished job, or a model's champion, whose network is this one.
 */
const initial = z
  .union([
    z.strictObject({
      fromJob: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/, "a job id")
        .describe(
          "a finished job of this service (enkf serve's, or on AWS): its model.json must describe " +
            "the same network (layers, activation, feature columns, outputs); enkf run reads the job " +
            "from runs/service (or use --init-from DIR)",
        ),
    }),
    z.strictObject({
      fromModel: z
        .string()
        .regex(MODEL_NAME, "a model name")
        .describe(
          "a model of this service (GET /models): its champion, resolved when the job is created or " +
            "a schedule fires; the same network rules as fromJob",
        ),
    }),
  ])
  .optional()
  .describe("warm start: θ₀ from a trained model instead of the seeded initialization (problem.seed)");

export const ClassificationProblem = z
  .strictObject({
    type: z.literal("classification"),
    data: DataSpec,
    model: ModelSpec,
    loss: z.enum(["cross-entropy", "least-squares"]).default("cross-entropy"),
    seed: seed.default(0).describe("seed of the initial weights"),
    initial,
    regularization,
  })
  .describe("train a network on labelled data");

export const RegressionProblem = z
  .strictObject({
    type: z.literal("regression"),
    data: DataSpec,
    model: ModelSpec,
    loss: z.literal("least-squares").default("least-squares"),
    seed: seed.default(0).describe("seed of the initial weights"),
    initial,
    regularization,
  })
  .describe("fit a network to real-valued targets");

const NumbersOrFile = z.union([
  z.array(z.number()).min(1).max(10_000_000),
  z
    .string()
    .regex(/\.npy$/, "a .npy file")
    .describe("a .npy file of float64 or float32 numbers, relative to the job file"),
]);

const Bound = z.number().nullable();
export const InverseParameter = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, "a parameter name (letters, digits, _)")
      .describe("the forward model's parameter this one sets"),
    prior: z
      .strictObject({ mean: z.number(), std: z.number().gt(0) })
      .describe("in the parameter's own (constrained) units; θ₀ is its mean"),
    bounds: z
      .tuple([Bound, Bound])
      .default([null, null])
      .describe("[lower, upper], null for none: optimized through a log (one bound) or logit (two) transform"),
  })
  .superRefine((p, ctx) => {
    const [lo, hi] = p.bounds;
    if (lo !== null && hi !== null && !(lo < hi))
      ctx.addIssue({
        code: "custom",
        path: ["bounds"],
        message: `the lower bound ${lo} is not below the upper bound ${hi}`,
      });
    else if ((lo !== null && !(p.prior.mean > lo)) || (hi !== null && !(p.prior.mean < hi)))
      ctx.addIssue({
        code: "custom",
        path: ["prior", "mean"],
        message: `the prior's mean ${p.prior.mean} is not strictly inside the bounds`,
      });
  });

export const Lorenz96Forward = z
  .strictObject({
    type: z.literal("lorenz96"),
    variables: z.int().min(4).max(10_000).default(40).describe("N, the ring's variables"),
    dt: z.number().gt(0).max(1).default(0.01).describe("the Runge–Kutta step"),
    spinup: z.int().min(0).max(10_000_000).default(500).describe("steps discarded before averaging"),
    steps: z.int().min(1).max(10_000_000).default(2000).describe("steps averaged over"),
    forcing: z.number().default(8).describe("F where it is not a calibrated parameter"),
    coupling: z.number().default(1).describe("α where it is not a calibrated parameter"),
  })
  .describe(
    "the built-in Lorenz-96 ring dx_i/dt = α(x_{i+1} − x_{i−2})x_{i−1} − x_i + F, observed " +
      "through 4 time- and ring-averaged moments ⟨x⟩, ⟨x²⟩, ⟨x_i x_{i+1}⟩, ⟨x_i x_{i+2}⟩; its " +
      "parameters are forcing and coupling",
  );

export const LinearForward = z
  .strictObject({
    type: z.literal("linear"),
    matrix: z
      .array(z.array(z.number()).min(1))
      .min(1)
      .describe("A, one row per observation and one column per parameter"),
    offset: z.array(z.number()).optional().describe("b (default 0)"),
  })
  .describe("G(u) = A·u + b: the linear-Gaussian inverse problem, whose posterior is known in closed form");

export const OnnxForward = z
  .strictObject({
    type: z.literal("onnx"),
    path: z
      .string()
      .regex(/\.onnx$/, "an .onnx file")
      .describe(
        "relative to the job file: a graph with one input theta [B, n] (float32 or float64) and one output [B, m]",
      ),
    batch: z.int().min(1).max(100_000).default(64).describe("members evaluated per run of the graph"),
  })
  .describe("your own forward model as an ONNX graph; the parameters are its inputs in order");

export const HttpForward = z
  .strictObject({
    type: z.literal("http"),
    url: z
      .url()
      .describe(
        "POSTed { parameters: [names], theta: [[u…] per member] } as JSON; answers { outputs: " +
          "[[G…] or null per member] }",
      ),
    batch: z.int().min(1).max(10_000).default(16).describe("members per request"),
    timeoutMs: z
      .int()
      .min(1)
      .max(3_600_000)
      .default(30_000)
      .describe("a request that takes longer is abandoned (and retried)"),
    retries: z
      .int()
      .min(0)
      .max(10)
      .default(2)
      .describe(
        "attempts after the first for a request that fails (network error, 5xx, timeout); then its " +
          "members count as failed",
      ),
  })
  .describe(
    "a forward model served over HTTP by your own process; a member answered null, or a " +
      "request that keeps failing, is a failed member (the failure policy's)",
  );

export const LambdaForward = z
  .strictObject({
    type: z.literal("lambda"),
    functionArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]+)?$/,
        "a Lambda function's ARN (arn:aws:lambda:<region>:<account>:function:<name>)",
      )
      .describe(
        "your function, which the deployment names (-c forwardFunctions=…): invoked by the state " +
          "machine with { parameters: [names], theta: [[u…] per member] }, it returns { outputs: " +
          "[[G…] or null per member] }",
      ),
    batch: z.int().min(1).max(1000).default(16).describe("members per invocation"),
  })
  .describe("your own forward model as an AWS Lambda function (on AWS; each member block is one invocation)");

/** The Laplace posterior's request: on (the default), off, or on at a given draw scale. */
export const Posterior = z.union(
  [
    z.enum(["laplace", "none"]),
    z.strictObject({
      method: z.literal("laplace"),
      sigma: positive.optional().describe("the draws' σ (default: the last iteration's)"),
    }),
  ],
  { error: 'expected "laplace", "none" or { method: "laplace", sigma }' },
);

export const InverseProblem = z
  .strictObject({
    type: z.literal("inverse"),
    forward: z
      .discriminatedUnion("type", [Lorenz96Forward, LinearForward, OnnxForward, HttpForward, LambdaForward])
      .describe(
        "the forward model G: the built-in lorenz96, a linear map, an ONNX graph, your own HTTP " +
          "service, or your own AWS Lambda function",
      ),
    observations: z.strictObject({
      values: NumbersOrFile.describe("y, as long as G's output"),
      noise: z.strictObject({
        std: z
          .union([z.number().gt(0), NumbersOrFile])
          .describe("the observation noise's standard deviation: one for all, or one per value"),
      }),
    }),
    parameters: z.array(InverseParameter).min(1).max(1000).describe("the unknowns, in θ's order"),
    prior: z
      .boolean()
      .default(true)
      .describe("add the prior term ½Σ((θ − μ)/σ)² (in the unconstrained parameters) to Φ"),
    posterior: Posterior.optional().describe(
      'the uncertainty around the result: "laplace" (the default with the modified EnKF) forms the ' +
        "Gauss–Newton posterior N(θ*, (JᵀΓ⁻¹J + Σ₀⁻¹)⁻¹) from fresh draws at θ* and reports each " +
        'parameter\'s mean, std and 95% interval; "none" skips it',
    ),
  })
  .describe(
    "calibrate a forward model's parameters to observations: Φ(θ) = ½‖Γ^{-1/2}(G(u(θ)) − y)‖² + the prior term",
  );

export const ProblemSpec = z.discriminatedUnion("type", [
  QuadraticProblem,
  OscillatoryProblem,
  RosenbrockProblem,
  ClassificationProblem,
  RegressionProblem,
  InverseProblem,
]);

export type ProblemSpec = z.infer<typeof ProblemSpec>;
export type InverseProblem = z.infer<typeof InverseProblem>;
