// An inverse problem (pure): calibrate the parameters of a forward model G to observations y with
// noise Γ = diag(std²),
//   Φ(θ) = ½‖Γ^{-1/2}(G(u(θ)) − y)‖² + ½ Σ_j ((θ_j − μ_j)/σ_j)²   (the prior term, when asked for),
// where θ is unconstrained and u maps it onto each parameter's bounds (../math/constrain.ts), and
// the prior (μ_j, σ_j) is the user's prior in constrained units carried into θ. The prior term is
// part of F, as extra outputs θ_j with targets μ_j and weights 1/σ_j², so both ensemble methods see
// one least-squares problem. θ₀ is the prior mean. Results name the parameters in their units.
// The forward models so far: the built-in Lorenz-96 (../simulators/lorenz96.ts).

import { leastSquares } from "../losses/leastSquares.ts";
import { constrain, constrainedGaussian, BoundsError, type Bounds } from "../math/constrain.ts";
import { LORENZ96_OBSERVED, lorenz96Statistics, type Lorenz96Parameters } from "../simulators/lorenz96.ts";
import type { InverseProblem as InverseProblemSpec } from "../spec/job.ts";
import type { Problem } from "./types.ts";

/** A mistake in the problem's definition, naming the field (`problem.…`). */
export class InverseProblemError extends Error {
  override name = "InverseProblemError";
  constructor(readonly path: string, message: string) {
    super(`${path}: ${message}`);
  }
}

/** The observations with any files read: y and the noise std (one value, or one per observation). */
export interface Observations {
  values: Float64Array;
  std: Float64Array;
}

export interface InverseProblem extends Problem {
  /** u(θ) by name, in the parameters' own units */
  parameters(theta: Float64Array): Record<string, number>;
  /** ½‖Γ^{-1/2}(G(u(θ)) − y)‖² alone, and per observation (misfit / m ≈ ½ at the noise level) */
  misfit(theta: Float64Array): number;
  /** G's output length m */
  readonly observed: number;
}

type Spec = InverseProblemSpec;

/** G(u) for the forward the spec names, and its output length. */
function forwardModel(spec: Spec): { outputs: number; names: readonly string[]; run: (u: Map<string, number>, out: Float64Array) => void } {
  const f = spec.forward;
  const names = ["forcing", "coupling"] as const;
  const opts = { variables: f.variables, dt: f.dt, spinup: f.spinup, steps: f.steps };
  return {
    outputs: LORENZ96_OBSERVED,
    names,
    run(u, out) {
      const p: Lorenz96Parameters = { forcing: u.get("forcing") ?? f.forcing, coupling: u.get("coupling") ?? f.coupling };
      lorenz96Statistics(p, opts, out);
    },
  };
}

export function inverseProblem(spec: Spec, obs: Observations): InverseProblem {
  const g = forwardModel(spec);
  const m = g.outputs, n = spec.parameters.length;
  const seen = new Set<string>();
  spec.parameters.forEach((p, j) => {
    if (!g.names.includes(p.name)) throw new InverseProblemError(`problem.parameters[${j}].name`, `"${p.name}" is not a parameter of the ${spec.forward.type} forward model (${g.names.join(", ")})`);
    if (seen.has(p.name)) throw new InverseProblemError(`problem.parameters[${j}].name`, `"${p.name}" is named twice`);
    seen.add(p.name);
  });
  if (obs.values.length !== m) throw new InverseProblemError("problem.observations.values", `${obs.values.length} observations, but the ${spec.forward.type} forward model gives ${m} outputs`);
  if (obs.std.length !== 1 && obs.std.length !== m) throw new InverseProblemError("problem.observations.noise.std", `${obs.std.length} standard deviations for ${m} observations: give one, or one per observation`);
  for (let r = 0; r < obs.std.length; r++) if (!(obs.std[r] > 0) || !Number.isFinite(obs.std[r])) throw new InverseProblemError("problem.observations.noise.std", `entry ${r} is ${obs.std[r]}, not a positive number`);
  for (let r = 0; r < m; r++) if (!Number.isFinite(obs.values[r])) throw new InverseProblemError("problem.observations.values", `entry ${r} is ${obs.values[r]}, not a finite number`);

  const bounds: Bounds[] = spec.parameters.map((p) => ({ lower: p.bounds[0], upper: p.bounds[1] }));
  const prior = spec.parameters.map((p, j) => {
    try {
      return constrainedGaussian(p.prior.mean, p.prior.std, bounds[j], `problem.parameters[${j}]`);
    } catch (e) {
      if (e instanceof BoundsError) throw new InverseProblemError(`problem.parameters[${j}]`, e.message.replace(/^problem\.parameters\[\d+\]: /, ""));
      throw e;
    }
  });
  const withPrior = spec.prior;
  const size = m + (withPrior ? n : 0);
  const target = new Float64Array(size), weights = new Float64Array(size);
  for (let r = 0; r < m; r++) {
    target[r] = obs.values[r];
    const s = obs.std.length === 1 ? obs.std[0] : obs.std[r];
    weights[r] = 1 / (s * s);
  }
  if (withPrior) for (let j = 0; j < n; j++) { target[m + j] = prior[j].mean; weights[m + j] = 1 / (prior[j].std * prior[j].std); }
  const u = new Map<string, number>();
  const gOut = new Float64Array(m);
  const setU = (theta: Float64Array) => { spec.parameters.forEach((p, j) => u.set(p.name, constrain(theta[j], bounds[j]))); };

  const problem: InverseProblem = {
    kind: "inverse",
    dimension: n,
    outputSize: size,
    observed: m,
    loss: leastSquares(target, { weights }),
    initial: () => Float64Array.from(prior, (p) => p.mean),
    forward(theta, out) {
      setU(theta);
      g.run(u, gOut);
      out.set(gOut);
      if (withPrior) for (let j = 0; j < n; j++) out[m + j] = theta[j];
    },
    parameters(theta) {
      return Object.fromEntries(spec.parameters.map((p, j) => [p.name, constrain(theta[j], bounds[j])]));
    },
    misfit(theta) {
      setU(theta);
      g.run(u, gOut);
      let phi = 0;
      for (let r = 0; r < m; r++) { const e = gOut[r] - target[r]; phi += 0.5 * weights[r] * e * e; }
      return phi;
    },
    async evaluate(theta) {
      const misfit = problem.misfit(theta);
      return { misfit, misfitPerObservation: misfit / m };
    },
  };
  return problem;
}
