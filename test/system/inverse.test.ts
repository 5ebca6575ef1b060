// Inverse problems (issue 16, first part): calibrating Lorenz-96's forcing F and coupling α from
// four time- and ring-averaged moments, in process, with the modified EnKF and the EKI baseline
// on the same forward, noise and (about) the same number of forward evaluations. The truth's
// uncertainty is measured independently of the optimizers: the Gauss–Newton posterior at the
// truth from a central-difference Jacobian of G. Bad definitions are refused naming the field.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { optimizeAll } from "../../shared/enkf/optimize.ts";
import { constrain } from "../../shared/math/constrain.ts";
import { inverseProblem, InverseProblemError, type InverseProblem } from "../../shared/problems/inverse.ts";
import { lorenz96Statistics } from "../../shared/simulators/lorenz96.ts";
import { JobSpec } from "../../shared/spec/job.ts";
import { runCli } from "../support/cli.ts";

const forward = { type: "lorenz96", variables: 40, dt: 0.01, spinup: 500, steps: 2000 } as const;
const truth = { forcing: 8, coupling: 1 };
// about 2.5 times the moments' chaotic jitter at this window (measured: 0.04, 0.4, 0.2, 0.2)
const std = [0.1, 1, 0.5, 0.5];
/** the perturbations' size in θ (log units): large enough to see past the moments' chaotic jitter */
const SIGMA = Number(process.env.L96_SIGMA ?? 0.1);

/** y = G(truth) + η, η ~ N(0, diag(std²)) from a fixed LCG and Box–Muller (not the service's RNG). */
function observations(): number[] {
  const g = new Float64Array(4);
  lorenz96Statistics(truth, forward, g);
  let s = 20261203;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  return Array.from(g, (v, r) => v + std[r] * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
}

const problemSpec = (y: number[]) => ({
  type: "inverse",
  forward,
  observations: { values: y, noise: { std } },
  parameters: [
    { name: "forcing", prior: { mean: 6, std: 2 }, bounds: [0, null] },
    { name: "coupling", prior: { mean: 1.3, std: 0.4 }, bounds: [0, null] },
  ],
});

function build(y: number[]): { p: InverseProblem; spec: ReturnType<typeof JobSpec.parse> } {
  const spec = JobSpec.parse({
    name: "l96",
    problem: problemSpec(y),
    optimizer: { method: "modified-enkf", ensembleSize: 8 },
    stop: { maxIterations: 1 },
  });
  if (spec.problem.type !== "inverse") throw new Error("not inverse");
  return { p: inverseProblem(spec.problem, { values: Float64Array.from(y), std: Float64Array.from(std) }), spec };
}

/**
 * The Gauss–Newton posterior std of each parameter at the truth, in its own units: Σ = (JᵀWJ + prior)⁻¹ in θ, mapped by
 * du/dθ.
 */
function posteriorStd(p: InverseProblem, thetaTrue: Float64Array): number[] {
  const n = 2,
    M = p.outputSize,
    h = 0.02;
  const J = Array.from({ length: n }, () => new Float64Array(M));
  const fp = new Float64Array(M),
    fm = new Float64Array(M);
  for (let j = 0; j < n; j++) {
    const a = Float64Array.from(thetaTrue),
      b = Float64Array.from(thetaTrue);
    a[j] += h;
    b[j] -= h;
    p.forward(a, fp);
    p.forward(b, fm);
    for (let r = 0; r < M; r++) J[j][r] = (fp[r] - fm[r]) / (2 * h);
  }
  const w = (p.loss as unknown as { weights: Float64Array }).weights;
  const H = [
    [0, 0],
    [0, 0],
  ];
  for (let a = 0; a < n; a++)
    for (let b = 0; b < n; b++) for (let r = 0; r < M; r++) H[a][b] += J[a][r] * w[r] * J[b][r];
  const det = H[0][0] * H[1][1] - H[0][1] * H[1][0];
  const cov = [H[1][1] / det, H[0][0] / det];
  // u = e^θ for a lower bound of 0: du/dθ = u
  return cov.map((c, j) => Math.sqrt(c) * constrain(thetaTrue[j], { lower: 0, upper: null }));
}

describe("Lorenz-96 calibration (2 parameters, 4 observed moments)", () => {
  it(
    "the modified EnKF recovers F and α within 2 posterior standard deviations; EKI on the " +
      "same evaluations is reported beside it",
    async () => {
      const y = observations();
      const { p } = build(y);
      const thetaTrue = Float64Array.from([Math.log(truth.forcing), Math.log(truth.coupling)]);
      const sd = posteriorStd(p, thetaTrue);
      const phiTrue = p.loss.value(
        (() => {
          const f = new Float64Array(p.outputSize);
          p.forward(thetaTrue, f);
          return f;
        })(),
      );

      const mSpec = JobSpec.parse({
        name: "m",
        problem: problemSpec(y),
        optimizer: { method: "modified-enkf", ensembleSize: 8, sigma: SIGMA, gamma: { relative: 0.01 }, seed: 1 },
        stop: { maxIterations: 15 },
      });
      const menkf = await optimizeAll({ problem: p, optimizer: mSpec.optimizer, stop: mSpec.stop });
      // EKI evaluates its J particles and their mean each iteration
      const perIteration = Math.max(1, Math.round(menkf.evaluations / 9));
      const ekiSpec = JobSpec.parse({
        name: "e",
        problem: problemSpec(y),
        optimizer: { method: "enkf", ensembleSize: 8, sigma: 0.35, stepSize: 1, seed: 1 },
        stop: { maxIterations: perIteration },
      });
      const eki = await optimizeAll({ problem: p, optimizer: ekiSpec.optimizer, stop: ekiSpec.stop });

      const report = (name: string, r: typeof menkf) => {
        const u = r.parameters!;
        const reached = r.history.find((h) => (h as { objective: number }).objective <= phiTrue) as
          { iteration: number; evaluations?: number } | undefined;
        console.log(
          `${name}: F ${u.forcing.toFixed(3)} (error ${(u.forcing - truth.forcing).toFixed(3)}, ` +
            `${(Math.abs(u.forcing - truth.forcing) / sd[0]).toFixed(2)} sd), α ` +
            `${u.coupling.toFixed(4)} (error ${(u.coupling - truth.coupling).toFixed(4)}, ` +
            `${(Math.abs(u.coupling - truth.coupling) / sd[1]).toFixed(2)} sd), Φ ` +
            `${r.objective.toFixed(3)} (the truth's ${phiTrue.toFixed(3)}), ${r.evaluations} forward ` +
            `evaluations, Φ ≤ the truth's at iteration ${reached?.iteration ?? "never"}`,
        );
        return u;
      };
      console.log(`posterior sd at the truth: F ${sd[0].toFixed(3)}, α ${sd[1].toFixed(4)}`);
      const m = report("modified EnKF (K = 8)", menkf);
      report(`EKI (J = 8, ${perIteration} iterations)`, eki);
      expect(Math.abs(m.forcing - truth.forcing)).toBeLessThan(2 * sd[0]);
      expect(Math.abs(m.coupling - truth.coupling)).toBeLessThan(2 * sd[1]);
      expect(menkf.objective).toBeLessThan(phiTrue * 1.5 + 1);
      expect(Math.abs(eki.evaluations - menkf.evaluations)).toBeLessThanOrEqual(9);
    },
    120_000,
  );

  it(
    "refuses observations of the wrong length, bounds with lower above upper and an unknown " +
      "parameter, naming the field, before any work",
    () => {
      expect(() => build([1, 2, 3])).toThrow(InverseProblemError);
      expect(() => build([1, 2, 3])).toThrow(
        /problem\.observations\.values: 3 observations, but the lorenz96 forward model gives 4 outputs/,
      );
      const optimizer = { method: "modified-enkf", ensembleSize: 4 };
      const bad = JobSpec.safeParse({
        name: "x",
        optimizer,
        problem: {
          ...problemSpec([1, 2, 3, 4]),
          parameters: [{ name: "forcing", prior: { mean: 8, std: 1 }, bounds: [10, 2] }],
        },
      });
      expect(bad.success).toBe(false);
      expect(bad.error!.issues[0].path.join(".")).toBe("problem.parameters.0.bounds");
      const spec = JobSpec.parse({
        name: "x",
        optimizer,
        problem: { ...problemSpec([1, 2, 3, 4]), parameters: [{ name: "gravity", prior: { mean: 8, std: 1 } }] },
      });
      expect(() =>
        inverseProblem(spec.problem as never, { values: Float64Array.of(1, 2, 3, 4), std: Float64Array.of(1) }),
      ).toThrow(
        /problem\.parameters\[0\]\.name: "gravity" is not a parameter of the lorenz96 forward model \(forcing, /,
      );

      // through enkf run: exit 2 and the field, nothing run
      const dir = mkdtempSync(join(tmpdir(), "enkf-inverse-"));
      writeFileSync(
        join(dir, "short.json"),
        JSON.stringify({
          name: "short",
          problem: problemSpec([1, 2]),
          optimizer: { method: "modified-enkf", ensembleSize: 4 },
          stop: { maxIterations: 2 },
        }),
      );
      const r = runCli(["run", "short.json", "--out", "never", "--quiet"], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/problem\.observations\.values: 2 observations/);
      writeFileSync(
        join(dir, "bounds.json"),
        JSON.stringify({
          name: "b",
          problem: {
            ...problemSpec([1, 2, 3, 4]),
            parameters: [{ name: "forcing", prior: { mean: 8, std: 1 }, bounds: [10, 2] }],
          },
          optimizer: { method: "modified-enkf", ensembleSize: 4 },
        }),
      );
      const b = runCli(["run", "bounds.json", "--out", "never", "--quiet"], { cwd: dir });
      expect(b.code).toBe(2);
      expect(b.stderr).toMatch(/problem\.parameters\[0\]\.bounds: the lower bound 10 is not below the upper bound 2/);
    },
    60_000,
  );
});
