// The job spec's optimizers: the modified EnKF (σ, γ, line search), EKI, the ensemble Kalman sampler
// and gradient descent.

import { z } from "zod";
import { batchSize, ensembleSizeField, nonNegative, positive, seed } from "./fields.ts";

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

/** The step length's schedule: η_k = stepSize · m(k) (shared/enkf/schedules.ts). */
export const StepSchedule = z
  .discriminatedUnion("schedule", [
    z.strictObject({ schedule: z.literal("constant") }),
    z.strictObject({
      schedule: z.literal("inverse-time"),
      tau: positive.describe("τ in η_k = η₀ / (1 + k/τ)"),
    }),
    z.strictObject({
      schedule: z.literal("cosine"),
      iterations: z.int().min(1).describe("T: η falls from η₀ to its minimum over T iterations, then stays"),
      minimum: z.number().min(0).max(1).default(0).describe("the floor, as a fraction of η₀"),
    }),
    z.strictObject({
      schedule: z.literal("step"),
      every: z.int().min(1).describe("iterations between reductions"),
      factor: z.number().gt(0).max(1).describe("η multiplied by this every `every` iterations"),
    }),
  ])
  .describe("η_k for iteration k: the line search's first rung, or the step without it");

/** Iterate averaging: the averaged θ is the one evaluated, selected and exported (shared/enkf/averaging.ts). */
export const Averaging = z
  .discriminatedUnion("type", [
    z.strictObject({
      type: z.literal("ema"),
      decay: z.number().gt(0).lt(1).default(0.98).describe("β in θ̄_k = β θ̄_{k−1} + (1 − β) θ_k"),
    }),
    z.strictObject({
      type: z.literal("tail"),
      start: z.int().min(0).describe("the Polyak tail average: the mean of θ_k from iteration `start` on"),
    }),
  ])
  .describe("average the iterates; the average is evaluated, selected and exported, the core steps from θ_k");

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
    stepSchedule: StepSchedule.default({ schedule: "constant" }),
    averaging: Averaging.optional(),
    momentum: z
      .number()
      .gt(0)
      .lt(1)
      .optional()
      .describe(
        "μ of Nesterov momentum on the update direction: m_k = μ m_{k−1} + d_k, the step along d_k + μ m_k " +
          "(reset after a rejected iteration); needs lineSearch false",
      ),
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
    batchSize,
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
    batchSize,
    seed: seed.default(0),
  })
  .describe("standard ensemble Kalman inversion (Kovachki & Stuart 2019), the comparison baseline");

export const EksOptimizer = z
  .strictObject({
    method: z.literal("eks"),
    ensembleSize: ensembleSizeField("J, particles: the posterior sample (at least n + 2; hundreds to trust tails)"),
    timeStep: positive
      .max(1)
      .default(0.1)
      .describe("Δt₀: each step is Δt = Δt₀/‖D‖_F (≈ Δt₀/√n near the posterior); smaller is less biased, slower"),
    seed: seed.default(0),
  })
  .describe(
    "the ensemble Kalman sampler (ALDI form; Garbuno-Inigo, Nüsken & Reich 2020): its J particles sample " +
      "an inverse problem's posterior; stop.maxIterations steps",
  );

export const GradientDescentOptimizer = z
  .strictObject({
    method: z.literal("gradient-descent"),
    stepSize: positive.default(1),
    lineSearch: LineSearch.default(true),
    batchSize,
    seed: seed.default(0).describe("seed of the mini-batches"),
  })
  .describe("gradient descent with the exact gradient (built-in problems only), a baseline");

export const OptimizerSpec = z.discriminatedUnion("method", [
  ModifiedEnkfOptimizer,
  EnkfOptimizer,
  EksOptimizer,
  GradientDescentOptimizer,
]);

export type OptimizerSpec = z.infer<typeof OptimizerSpec>;
export type ModifiedEnkfSpec = z.infer<typeof ModifiedEnkfOptimizer>;
export type EnkfSpec = z.infer<typeof EnkfOptimizer>;
export type EksSpec = z.infer<typeof EksOptimizer>;
export type GradientDescentSpec = z.infer<typeof GradientDescentOptimizer>;
export type SigmaSpec = z.infer<typeof Sigma>;
export type GammaSpec = z.infer<typeof Gamma>;
export type LineSearchSpec = z.infer<typeof LineSearch>;
export type StepScheduleSpec = z.infer<typeof StepSchedule>;
export type AveragingSpec = z.infer<typeof Averaging>;
