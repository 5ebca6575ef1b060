// Builds the Problem a job spec names. Network problems need their dataset, loaded by the caller.

import type { Dataset } from "../data/types.ts";
import type { ModelSpec, OptimizerSpec, ProblemSpec } from "../spec/job.ts";
import type { NetworkModel } from "../models/model.ts";
import { cnnLayout } from "../models/cnn.ts";
import { networkProblem } from "./network.ts";
import { oscillatory } from "./oscillatory.ts";
import { quadratic } from "./quadratic.ts";
import { rosenbrock } from "./rosenbrock.ts";
import { inverseProblem, type BatchForward, type Observations } from "./inverse.ts";
import type { Problem } from "./types.ts";

export interface BuildContext {
  /** the loaded data, for classification and regression problems */
  dataset?: Dataset;
  /** the optimizer, whose batchSize and seed choose the mini-batches */
  optimizer?: OptimizerSpec;
  /** network problems: the loss as a sum over the batch rows (the modified EnKF divides at its reduction) */
  sumForm?: boolean;
  /** network problems: a warm start's θ₀ */
  theta0?: Float64Array;
  /** inverse problems: the observations and noise, files read, and a loaded onnx forward (setup/inverseInputs.ts) */
  observations?: Observations;
  forward?: BatchForward;
}

/** A job whose problem does not fit its data, found once the data is loaded; `path` names the job's field. */
export class ModelDataError extends Error {
  override name = "ModelDataError";
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/** The model of a spec, sized to the data: inputs from the features, outputs from classes or targets. */
export function networkModel(spec: ModelSpec, ds: Pick<Dataset, "features" | "outputs">): NetworkModel {
  if (spec.type === "mlp")
    return { type: "mlp", inputs: ds.features, hidden: spec.hidden, outputs: ds.outputs, activation: spec.activation };
  let input = spec.input as [number, number, number] | undefined;
  if (!input) {
    const side = Math.round(Math.sqrt(ds.features));
    if (side * side !== ds.features)
      throw new ModelDataError(
        "problem.model.input",
        `a CNN reads images: the data's ${ds.features} features are not a square image, so give ` +
          `problem.model.input as [channels, height, width] (or use an MLP for tabular data)`,
      );
    input = [1, side, side];
  }
  if (input[0] * input[1] * input[2] !== ds.features)
    throw new ModelDataError(
      "problem.model.input",
      `${input.join("×")} holds ${input[0] * input[1] * input[2]} values but the data has ${ds.features} features`,
    );
  const model: NetworkModel = {
    type: "cnn",
    input,
    channels: spec.channels,
    kernel: spec.kernel,
    pool: spec.pool,
    outputs: ds.outputs,
    activation: spec.activation,
  };
  try {
    cnnLayout(model);
  } catch (e) {
    throw new ModelDataError("problem.model", (e as Error).message);
  }
  return model;
}

/** Everything about a network problem that its data decides, checked before any work (throws ModelDataError). */
export function checkNetworkFits(
  spec: Extract<ProblemSpec, { type: "classification" | "regression" }>,
  ds: Pick<Dataset, "kind" | "features" | "outputs">,
): void {
  networkModel(spec.model, ds);
  if (spec.loss === "cross-entropy" && ds.kind !== "classification")
    throw new ModelDataError(
      "problem.loss",
      "cross-entropy needs class labels; this dataset has regression targets (use least-squares)",
    );
}

export function buildProblem(spec: ProblemSpec, ctx: BuildContext = {}): Problem {
  switch (spec.type) {
    case "quadratic":
      return quadratic(spec);
    case "oscillatory":
      return oscillatory(spec);
    case "rosenbrock":
      return rosenbrock(spec);
    case "inverse": {
      if (!ctx.observations) throw new Error('problem "inverse" needs its observations loaded');
      return inverseProblem(spec, ctx.observations, ctx.forward);
    }
    case "classification":
    case "regression": {
      if (!ctx.dataset) throw new Error(`problem "${spec.type}" needs its dataset loaded`);
      const ds = ctx.dataset;
      return networkProblem({
        model: networkModel(spec.model, ds),
        dataset: ds,
        loss: spec.loss,
        batchSize: ctx.optimizer && "batchSize" in ctx.optimizer ? ctx.optimizer.batchSize : undefined,
        batchSeed: ctx.optimizer?.seed ?? 0,
        initSeed: spec.seed,
        ...(ctx.sumForm ? { lossScale: 1 } : {}),
        ...(ctx.theta0 ? { theta0: ctx.theta0 } : {}),
      });
    }
  }
}
