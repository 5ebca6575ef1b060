// Parameters with bounds, optimized unconstrained (pure): θ ∈ ℝ maps onto the bounds by
//   [a, ∞): u = a + e^θ,   (−∞, b]: u = b − e^θ,   [a, b]: u = a + (b − a)·σ(θ),   ℝ: u = θ,
// the log and logit transforms of EnsembleKalmanProcesses.jl's constrained_gaussian. A prior
// given in the constrained units (mean and std) becomes a Gaussian in θ whose pushforward has that
// mean and std: exactly for a one-sided bound (the lognormal's moments), to first order (the
// delta method) for two.

export interface Bounds {
  lower: number | null;
  upper: number | null;
}

export class BoundsError extends RangeError {
  override name = "BoundsError";
}

/** Throws BoundsError unless lower < upper (where both are given) and both are finite or null. */
export function checkBounds(b: Bounds, where: string): void {
  for (const [k, v] of [
    ["lower", b.lower],
    ["upper", b.upper],
  ] as const)
    if (v !== null && !Number.isFinite(v))
      throw new BoundsError(`${where}: the ${k} bound ${v} is not a finite number (use null for none)`);
  if (b.lower !== null && b.upper !== null && !(b.lower < b.upper))
    throw new BoundsError(`${where}: the lower bound ${b.lower} is not below the upper bound ${b.upper}`);
}

const sigmoid = (t: number) => (t >= 0 ? 1 / (1 + Math.exp(-t)) : Math.exp(t) / (1 + Math.exp(t)));

/** u(θ): the constrained value. */
export function constrain(theta: number, b: Bounds): number {
  if (b.lower !== null && b.upper !== null) return b.lower + (b.upper - b.lower) * sigmoid(theta);
  if (b.lower !== null) return b.lower + Math.exp(theta);
  if (b.upper !== null) return b.upper - Math.exp(theta);
  return theta;
}

/** θ(u), the inverse of constrain; u must lie strictly inside the bounds. */
export function unconstrain(u: number, b: Bounds): number {
  const inside = (b.lower === null || u > b.lower) && (b.upper === null || u < b.upper);
  if (!inside) throw new BoundsError(`${u} is not strictly inside the bounds [${b.lower ?? "−∞"}, ${b.upper ?? "∞"}]`);
  if (b.lower !== null && b.upper !== null) {
    const p = (u - b.lower) / (b.upper - b.lower);
    return Math.log(p / (1 - p));
  }
  if (b.lower !== null) return Math.log(u - b.lower);
  if (b.upper !== null) return Math.log(b.upper - u);
  return u;
}

/** The Gaussian prior in θ for a prior of `mean` and `std` in the constrained units. */
export function constrainedGaussian(
  mean: number,
  std: number,
  b: Bounds,
  where: string,
): { mean: number; std: number } {
  checkBounds(b, where);
  if (!(std > 0) || !Number.isFinite(std))
    throw new BoundsError(`${where}: the prior's std ${std} is not a positive number`);
  const inside = (b.lower === null || mean > b.lower) && (b.upper === null || mean < b.upper);
  if (!inside)
    throw new BoundsError(
      `${where}: the prior's mean ${mean} is not strictly inside the bounds [${b.lower ?? "−∞"}, ${b.upper ?? "∞"}]`,
    );
  if (b.lower !== null && b.upper !== null) {
    const w = b.upper - b.lower,
      p = (mean - b.lower) / w;
    return { mean: Math.log(p / (1 - p)), std: std / (w * p * (1 - p)) };
  }
  if (b.lower === null && b.upper === null) return { mean, std };
  // one bound: a shifted (or mirrored) lognormal with this mean and std
  const d = b.lower !== null ? mean - b.lower : b.upper! - mean;
  const s2 = Math.log(1 + (std * std) / (d * d));
  return { mean: Math.log(d) - s2 / 2, std: Math.sqrt(s2) };
}
