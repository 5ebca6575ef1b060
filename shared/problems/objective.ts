// Φ(θ) = L(F(θ), y) + ½α‖θ‖² and, where the problem has an exact Jacobian, its gradient.

import type { Problem } from "./types.ts";

/** ½α‖θ‖² */
export function regularizationTerm(theta: Float64Array, alpha: number): number {
  if (alpha === 0) return 0;
  let s = 0;
  for (let i = 0; i < theta.length; i++) s += theta[i] * theta[i];
  return 0.5 * alpha * s;
}

/** Φ(θ); `f` receives F(θ). */
export function objective(problem: Problem, theta: Float64Array, f: Float64Array, alpha = 0): number {
  problem.forward(theta, f);
  return problem.loss.value(f) + regularizationTerm(theta, alpha);
}

export interface GradientWorkspace {
  f: Float64Array;
  g: Float64Array;
}

export function gradientWorkspace(problem: Problem): GradientWorkspace {
  return { f: new Float64Array(problem.outputSize), g: new Float64Array(problem.outputSize) };
}

/** grad ← ∇Φ(θ) = J(θ)ᵀ∇_F L + αθ; returns Φ(θ). Throws if the problem has no exact Jacobian. */
export function objectiveGradient(
  problem: Problem,
  theta: Float64Array,
  grad: Float64Array,
  ws: GradientWorkspace,
  alpha = 0,
): number {
  if (!problem.vjp) throw new Error(`problem "${problem.kind}" has no exact gradient`);
  problem.forward(theta, ws.f);
  let phi = problem.loss.gradient(ws.f, ws.g);
  problem.vjp(theta, ws.g, grad);
  if (alpha > 0) {
    for (let i = 0; i < theta.length; i++) grad[i] += alpha * theta[i];
    phi += regularizationTerm(theta, alpha);
  }
  return phi;
}
