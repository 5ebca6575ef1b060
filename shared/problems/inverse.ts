// An inverse problem (pure): calibrate the parameters of a forward model G to observations y with
// noise Γ = diag(std²),
//   Φ(θ) = ½‖Γ^{-1/2}(G(u(θ)) − y)‖² + ½ Σ_j ((θ_j − μ_j)/σ_j)²   (the prior term, when asked for),
// where θ is unconstrained and u maps it onto each parameter's bounds (../math/constrain.ts), and
// the prior (μ_j, σ_j) is the user's prior in constrained units carried into θ. The prior term is
// part of F, as extra outputs θ_j with targets μ_j and weights 1/σ_j², so both ensemble methods see
// one least-squares problem. θ₀ is the prior mean. Results name the parameters in their units.
// The forward models so far: the built-in Lorenz-96 (../simulators/lorenz96.ts), a linear map,
// and an ONNX graph of the user's (run in batches, asynchronously: forwardBatch).

import { leastSquares } from "../losses/leastSquares.ts";
import { constrain, constrainedGaussian, BoundsError, type Bounds } from "../math/constrain.ts";
import { LORENZ96_OBSERVED, lorenz96Statistics, type Lorenz96Parameters } from "../simulators/lorenz96.ts";
import type { InverseProblem as InverseProblemSpec } from "../spec/job.ts";
import type { Problem } from "./types.ts";

/** A mistake in the problem's definition, naming the field (`problem.…`). */
export class InverseProblemError extends Error {
  override name = "InverseProblemError";
  constructor(
    readonly path: string,
    message: string,
  ) {
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
  /** ½‖Γ^{-1/2}(G(u(θ)) − y)‖² alone */
  misfit(theta: Float64Array): Promise<number>;
  /** G's output length m */
  readonly observed: number;
  /** the prior's std in θ per parameter (the sampler's initial spread) */
  readonly priorStd: Float64Array;
  /** u(θ) at `count` points (count × n, member-major): what a remote forward is sent */
  constrained(points: Float64Array, count: number): Float64Array;
  /** out (count × M) ← F at the points from G's outputs there (count × m; a non-finite or
   *  missing row is a failed member), with the prior term's outputs θ appended */
  outputs(points: Float64Array, count: number, g: Float64Array, out: Float64Array): void;
}

type Spec = InverseProblemSpec;

/** A forward that runs on batches, asynchronously (an ONNX graph loaded by ../setup/inverseInputs.ts). */
export interface BatchForward {
  /** m, its outputs per point */
  readonly outputs: number;
  /** points it takes per call at most */
  readonly batch: number;
  /** out (count × m) ← G at `count` points u (count × n, member-major) */
  run(u: Float64Array, count: number, out: Float64Array): Promise<void>;
}

/** G in the constrained parameters: one point at a time (the built-ins) or in batches. */
type Forward =
  | { outputs: number; names: readonly string[] | null; run: (u: Float64Array, out: Float64Array) => void }
  | { outputs: number; names: null; batch: BatchForward }
  /** evaluated outside this process (the state machine invokes a lambda forward) */
  | { outputs: number; names: null; remote: string };

/** G for the forward the spec names; `names` are its parameters (null: any, in θ's order). */
function forwardModel(spec: Spec, loaded: BatchForward | undefined, observed: number): Forward {
  const f = spec.forward;
  const n = spec.parameters.length;
  if (f.type === "lorenz96") {
    const opts = { variables: f.variables, dt: f.dt, spinup: f.spinup, steps: f.steps };
    const index = { forcing: -1, coupling: -1 };
    spec.parameters.forEach((p, j) => {
      if (p.name === "forcing" || p.name === "coupling") index[p.name] = j;
    });
    return {
      outputs: LORENZ96_OBSERVED,
      names: ["forcing", "coupling"],
      run(u, out) {
        const p: Lorenz96Parameters = {
          forcing: index.forcing >= 0 ? u[index.forcing] : f.forcing,
          coupling: index.coupling >= 0 ? u[index.coupling] : f.coupling,
        };
        lorenz96Statistics(p, opts, out);
      },
    };
  }
  if (f.type === "linear") {
    const m = f.matrix.length;
    f.matrix.forEach((row, r) => {
      if (row.length !== n)
        throw new InverseProblemError(`problem.forward.matrix[${r}]`, `${row.length} columns for ${n} parameters`);
    });
    if (f.offset && f.offset.length !== m)
      throw new InverseProblemError("problem.forward.offset", `${f.offset.length} values for the matrix's ${m} rows`);
    const A = Float64Array.from(f.matrix.flat()),
      b = f.offset ? Float64Array.from(f.offset) : new Float64Array(m);
    return {
      outputs: m,
      names: null,
      run(u, out) {
        for (let r = 0; r < m; r++) {
          let s = b[r];
          for (let j = 0; j < n; j++) s += A[r * n + j] * u[j];
          out[r] = s;
        }
      },
    };
  }
  // G's outputs are the observations' length; the outputs a block stores are checked against it
  if (f.type === "lambda") return { outputs: observed, names: null, remote: f.functionArn };
  if (!loaded) throw new Error(`the ${f.type} forward is loaded before the problem is built (setup/inverseInputs.ts)`);
  return { outputs: loaded.outputs, names: null, batch: loaded };
}

export function inverseProblem(spec: Spec, obs: Observations, loaded?: BatchForward): InverseProblem {
  const g = forwardModel(spec, loaded, obs.values.length);
  const m = g.outputs,
    n = spec.parameters.length;
  const seen = new Set<string>();
  spec.parameters.forEach((p, j) => {
    if (g.names && !g.names.includes(p.name))
      throw new InverseProblemError(
        `problem.parameters[${j}].name`,
        `"${p.name}" is not a parameter of the ${spec.forward.type} forward model (${g.names!.join(", ")})`,
      );
    if (seen.has(p.name)) throw new InverseProblemError(`problem.parameters[${j}].name`, `"${p.name}" is named twice`);
    seen.add(p.name);
  });
  if (obs.values.length !== m)
    throw new InverseProblemError(
      "problem.observations.values",
      `${obs.values.length} observations, but the ${spec.forward.type} forward model gives ${m} outputs`,
    );
  if (obs.std.length !== 1 && obs.std.length !== m)
    throw new InverseProblemError(
      "problem.observations.noise.std",
      `${obs.std.length} standard deviations for ${m} observations: give one, or one per observation`,
    );
  for (let r = 0; r < obs.std.length; r++)
    if (!(obs.std[r] > 0) || !Number.isFinite(obs.std[r]))
      throw new InverseProblemError(
        "problem.observations.noise.std",
        `entry ${r} is ${obs.std[r]}, not a positive number`,
      );
  for (let r = 0; r < m; r++)
    if (!Number.isFinite(obs.values[r]))
      throw new InverseProblemError(
        "problem.observations.values",
        `entry ${r} is ${obs.values[r]}, not a finite number`,
      );

  const bounds: Bounds[] = spec.parameters.map((p) => ({ lower: p.bounds[0], upper: p.bounds[1] }));
  const prior = spec.parameters.map((p, j) => {
    try {
      return constrainedGaussian(p.prior.mean, p.prior.std, bounds[j], `problem.parameters[${j}]`);
    } catch (e) {
      if (e instanceof BoundsError)
        throw new InverseProblemError(
          `problem.parameters[${j}]`,
          e.message.replace(/^problem\.parameters\[\d+\]: /, ""),
        );
      throw e;
    }
  });
  const withPrior = spec.prior;
  const size = m + (withPrior ? n : 0);
  const target = new Float64Array(size),
    weights = new Float64Array(size);
  for (let r = 0; r < m; r++) {
    target[r] = obs.values[r];
    const s = obs.std.length === 1 ? obs.std[0] : obs.std[r];
    weights[r] = 1 / (s * s);
  }
  if (withPrior)
    for (let j = 0; j < n; j++) {
      target[m + j] = prior[j].mean;
      weights[m + j] = 1 / (prior[j].std * prior[j].std);
    }
  const names = spec.parameters.map((p) => p.name);
  const u = new Float64Array(n);
  const gOut = new Float64Array(m);
  const setU = (theta: Float64Array) => {
    for (let j = 0; j < n; j++) u[j] = constrain(theta[j], bounds[j]);
  };
  /** G at one θ into gOut */
  const single = async (theta: Float64Array) => {
    setU(theta);
    if ("run" in g) g.run(u, gOut);
    else if ("batch" in g) await g.batch.run(u, 1, gOut);
    else throw new Error(remoteOnly);
  };
  const remoteOnly = `the ${spec.forward.type} forward is invoked by the deployed state machine, not in this process`;

  const problem: InverseProblem = {
    kind: "inverse",
    dimension: n,
    outputSize: size,
    observed: m,
    loss: leastSquares(target, { weights }),
    initial: () => Float64Array.from(prior, (p) => p.mean),
    constrained(points, count) {
      const us = new Float64Array(count * n);
      for (let i = 0; i < count; i++)
        for (let j = 0; j < n; j++) us[i * n + j] = constrain(points[i * n + j], bounds[j]);
      return us;
    },
    outputs(points, count, gs, out) {
      for (let i = 0; i < count; i++) {
        const o = out.subarray(i * size, (i + 1) * size);
        if ((i + 1) * m <= gs.length) o.set(gs.subarray(i * m, (i + 1) * m));
        else o.fill(NaN, 0, m);
        if (withPrior) for (let j = 0; j < n; j++) o[m + j] = points[i * n + j];
      }
    },
    forward(theta, out) {
      if (!("run" in g))
        throw new Error(
          "batch" in g
            ? `the ${spec.forward.type} forward runs in batches: evaluate it through forwardBatch (the ` +
                `modified EnKF does)`
            : remoteOnly,
        );
      setU(theta);
      g.run(u, gOut);
      out.set(gOut);
      if (withPrior) for (let j = 0; j < n; j++) out[m + j] = theta[j];
    },
    parameters(theta) {
      return Object.fromEntries(spec.parameters.map((p, j) => [p.name, constrain(theta[j], bounds[j])]));
    },
    async misfit(theta) {
      await single(theta);
      let phi = 0;
      for (let r = 0; r < m; r++) {
        const e = gOut[r] - target[r];
        phi += 0.5 * weights[r] * e * e;
      }
      return phi;
    },
    ...(spec.posterior !== "none"
      ? {
          laplace:
            typeof spec.posterior === "object" && spec.posterior.sigma !== undefined
              ? { sigma: spec.posterior.sigma }
              : {},
        }
      : {}),
    parameterNames: names,
    parameterBounds: bounds,
    priorStd: Float64Array.from(prior, (p) => p.std),
    async evaluate(theta) {
      const misfit = await problem.misfit(theta);
      return { misfit, misfitPerObservation: misfit / m };
    },
  };
  if ("batch" in g) {
    const B = g.batch.batch;
    const gB = new Float64Array(B * m);
    problem.forwardBatch = async (points, count, out) => {
      for (let c0 = 0; c0 < count; c0 += B) {
        const rows = Math.min(B, count - c0);
        const block = points.subarray(c0 * n, (c0 + rows) * n);
        await g.batch.run(problem.constrained(block, rows), rows, gB.subarray(0, rows * m));
        problem.outputs(block, rows, gB.subarray(0, rows * m), out.subarray(c0 * size, (c0 + rows) * size));
      }
    };
  }
  return problem;
}
