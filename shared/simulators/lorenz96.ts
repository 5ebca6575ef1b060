// The Lorenz-96 system (pure), the classic test model of ensemble Kalman calibration:
//   dx_i/dt = α·(x_{i+1} − x_{i−2})·x_{i−1} − x_i + F,   i = 0 … N−1, indices cyclic,
// with the forcing F and the coupling α of the advection term as its parameters (α = 1 is
// Lorenz's original). Integrated with classical fourth-order Runge–Kutta at a fixed step from a
// fixed initial state, so a parameter gives the same trajectory on every run. What a calibration
// observes are time-averaged statistics after a spin-up, averaged over the ring too (the system is
// symmetric under rotation, and one variable's statistics are dominated by chaotic noise): the
// moments ⟨x⟩, ⟨x²⟩, ⟨x_i x_{i+1}⟩ and ⟨x_i x_{i+2}⟩ (LORENZ96_OBSERVED numbers).

export interface Lorenz96Options {
  /** variables N (≥ 4) */
  variables: number;
  /** the Runge–Kutta step */
  dt: number;
  /** steps discarded before averaging */
  spinup: number;
  /** steps averaged over */
  steps: number;
}

export interface Lorenz96Parameters {
  forcing: number;
  coupling: number;
}

/** out ← dx/dt at x. */
export function lorenz96Tendency(x: Float64Array, p: Lorenz96Parameters, out: Float64Array): void {
  const n = x.length;
  for (let i = 0; i < n; i++) {
    const xp1 = x[(i + 1) % n],
      xm1 = x[(i + n - 1) % n],
      xm2 = x[(i + n - 2) % n];
    out[i] = p.coupling * (xp1 - xm2) * xm1 - x[i] + p.forcing;
  }
}

/** Scratch space for rk4Step: four tendencies and a stage state, each N long. */
export function lorenz96Scratch(n: number): Float64Array[] {
  return Array.from({ length: 5 }, () => new Float64Array(n));
}

/** One classical Runge–Kutta step of length dt, x updated in place. */
export function lorenz96Step(x: Float64Array, p: Lorenz96Parameters, dt: number, scratch: Float64Array[]): void {
  const [k1, k2, k3, k4, s] = scratch;
  const n = x.length;
  lorenz96Tendency(x, p, k1);
  for (let i = 0; i < n; i++) s[i] = x[i] + 0.5 * dt * k1[i];
  lorenz96Tendency(s, p, k2);
  for (let i = 0; i < n; i++) s[i] = x[i] + 0.5 * dt * k2[i];
  lorenz96Tendency(s, p, k3);
  for (let i = 0; i < n; i++) s[i] = x[i] + dt * k3[i];
  lorenz96Tendency(s, p, k4);
  for (let i = 0; i < n; i++) x[i] += (dt / 6) * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
}

/** The fixed initial state: every variable 1, the first nudged to 1.01 (Lorenz's choice). */
export function lorenz96Initial(n: number): Float64Array {
  const x = new Float64Array(n).fill(1);
  x[0] = 1.01;
  return x;
}

/** How many statistics lorenz96Statistics gives. */
export const LORENZ96_OBSERVED = 4;

/**
 * The observed statistics at parameters p, over `steps` steps after `spinup`, averaged over time
 * and the ring: out = [⟨x⟩, ⟨x²⟩, ⟨x_i x_{i+1}⟩, ⟨x_i x_{i+2}⟩]. A trajectory that leaves the
 * reals (NaN or ±∞, e.g. too long a step) gives NaN statistics, which the optimizers treat as a
 * failed member.
 */
export function lorenz96Statistics(p: Lorenz96Parameters, o: Lorenz96Options, out: Float64Array): void {
  const n = o.variables;
  if (!(n >= 4)) throw new RangeError(`Lorenz-96 needs at least 4 variables, got ${n}`);
  if (out.length !== LORENZ96_OBSERVED)
    throw new RangeError(`the statistics are ${LORENZ96_OBSERVED} numbers; out has ${out.length}`);
  const x = lorenz96Initial(n),
    scratch = lorenz96Scratch(n);
  for (let t = 0; t < o.spinup; t++) lorenz96Step(x, p, o.dt, scratch);
  let m1 = 0,
    m2 = 0,
    c1 = 0,
    c2 = 0;
  for (let t = 0; t < o.steps; t++) {
    lorenz96Step(x, p, o.dt, scratch);
    for (let i = 0; i < n; i++) {
      const xi = x[i];
      m1 += xi;
      m2 += xi * xi;
      c1 += xi * x[(i + 1) % n];
      c2 += xi * x[(i + 2) % n];
    }
  }
  const w = 1 / (o.steps * n);
  out[0] = m1 * w;
  out[1] = m2 * w;
  out[2] = c1 * w;
  out[3] = c2 * w;
  if (!out.every(Number.isFinite)) out.fill(NaN);
}
