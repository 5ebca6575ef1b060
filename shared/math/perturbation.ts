// The perturbation draw of one ensemble: ω_j = σ·z_j for iteration k, member j, regenerated
// from the seed with the counter-based RNG, so Ω never has to be stored or sent. Also d = Ωs with
// Ω regenerated member by member (the workflow's reducer, which holds no kernel).

import { fillPerturbation, Stream, type PerturbationKind } from "./rng.ts";

export interface EnsembleDraw {
  sigma: number;
  kind: PerturbationKind;
  seed: number;
  iteration: number;
}

/** Writes ω_j = σ·z_j of iteration `draw.iteration` into `out` (length n). */
export function perturbation(draw: EnsembleDraw, member: number, out: Float64Array): void {
  fillPerturbation(draw.kind, out, { seed: draw.seed, stream: Stream.perturbation, iteration: draw.iteration, member }, draw.sigma);
}

/** out ← Ω s = Σ_j s_j ω_j, members in order (the same sums as combining stored rows). */
export function regeneratedDirection(draw: EnsembleDraw, s: Float64Array, out: Float64Array): void {
  const n = out.length, w = new Float64Array(n);
  out.fill(0);
  for (let j = 0; j < s.length; j++) {
    perturbation(draw, j, w);
    const sj = s[j];
    for (let i = 0; i < n; i++) out[i] += sj * w[i];
  }
}
