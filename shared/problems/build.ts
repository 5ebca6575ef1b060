// Builds the Problem a job spec names. Network problems need their dataset, loaded by the caller.

import type { Dataset } from "../data/types.ts";
import type { OptimizerSpec, ProblemSpec } from "../spec/job.ts";
import { networkProblem } from "./network.ts";
import { oscillatory } from "./oscillatory.ts";
import { quadratic } from "./quadratic.ts";
import { rosenbrock } from "./rosenbrock.ts";
import type { Problem } from "./types.ts";

export interface BuildContext {
  /** the loaded data, for classification and regression problems */
  dataset?: Dataset;
  /** the optimizer, whose batchSize and seed choose the mini-batches */
  optimizer?: OptimizerSpec;
}

export function buildProblem(spec: ProblemSpec, ctx: BuildContext = {}): Problem {
  switch (spec.type) {
    case "quadratic": return quadratic(spec);
    case "oscillatory": return oscillatory(spec);
    case "rosenbrock": return rosenbrock(spec);
    case "classification":
    case "regression": {
      if (!ctx.dataset) throw new Error(`problem "${spec.type}" needs its dataset loaded`);
      const ds = ctx.dataset;
      return networkProblem({
        model: { inputs: ds.features, hidden: spec.model.hidden, outputs: ds.outputs, activation: spec.model.activation },
        dataset: ds,
        loss: spec.loss,
        batchSize: ctx.optimizer?.batchSize,
        batchSeed: ctx.optimizer?.seed ?? 0,
        initSeed: spec.seed,
      });
    }
  }
}
