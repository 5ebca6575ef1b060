// Builds the Problem a job spec names.

import type { ProblemSpec } from "../spec/job.ts";
import { oscillatory } from "./oscillatory.ts";
import { quadratic } from "./quadratic.ts";
import { rosenbrock } from "./rosenbrock.ts";
import type { Problem } from "./types.ts";

export function buildProblem(spec: ProblemSpec): Problem {
  switch (spec.type) {
    case "quadratic": return quadratic(spec);
    case "oscillatory": return oscillatory(spec);
    case "rosenbrock": return rosenbrock(spec);
  }
}
