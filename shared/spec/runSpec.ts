// The job spec's stopping rules and compute options.

import { z } from "zod";
import { nonNegative, positive } from "./fields.ts";

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
  partialPrecision: z
    .enum(["float64", "float32"])
    .default("float64")
    .describe(
      "through the state machine with shards: the precision each shard's Gram (its K(K+1)/2 " +
        "values) is written in; float32 halves the bytes per round, the reduction still sums in " +
        "float64 (docs/method.md: what it does to the step)",
    ),
  reduceFanIn: z
    .int()
    .min(2)
    .max(1000)
    .optional()
    .describe(
      "through the state machine with shards: the most partials one reduction task sums; more " +
        "shards are summed in a tree of combine tasks first (default: as many as fit in 512 MiB)",
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

export type StopSpec = z.infer<typeof StopSpec>;
export type ComputeSpec = z.infer<typeof ComputeSpec>;
