// The Laplace (Gauss–Newton) posterior of an inverse problem at its result, from ensemble
// statistics (pure). The objective is Φ(θ) = ½ rᵀW r over the weighted misfits and the prior's
// outputs (../problems/inverse.ts), so its Gauss–Newton Hessian is H = JᵀWJ = JᵀΓ⁻¹J + Σ₀⁻¹ in the
// transformed (unbounded) θ, and the posterior is approximately N(θ*, H⁻¹).
//
// H comes from the statistics the modified EnKF already forms: for a draw Ω whose members ω_j are
// the rows of M (K × n), Q_j = F(θ* + ω_j) − F(θ*) ≈ J ω_j, so QᵀWQ ≈ M H Mᵀ, and with K ≥ n and
// M of full column rank, H = (MᵀM)⁻¹ Mᵀ (QᵀWQ) M (MᵀM)⁻¹. For a linear forward this is exact (up
// to rounding); otherwise Q_j is a one-sided difference at scale σ and H carries an O(σ) error.
// With K < n one draw does not determine H: D draws give D·K(K+1)/2 equations ω_iᵀHω_j = G_d[i, j]
// (i ≤ j, within each draw) for the n(n+1)/2 unknowns of the symmetric H, solved by least squares
// (hessianFromDraws); for one draw with K ≥ n that least-squares solution is the formula above.

import { accumulateGram } from "../math/gram.ts";
import { choleskyInPlace, choleskySolve } from "../math/linalg.ts";
import { addProduct } from "../math/product.ts";

/** The n × k transpose of a k × n row-major matrix. */
function transpose(a: Float64Array, k: number, n: number): Float64Array {
  const t = new Float64Array(n * k);
  for (let j = 0; j < k; j++) for (let i = 0; i < n; i++) t[i * k + j] = a[j * n + i];
  return t;
}

export class LaplaceError extends Error {
  override name = "LaplaceError";
}

/**
 * H (n × n, row-major) from the ensemble Gram G = QᵀWQ (K × K) of the members M (K × n,
 * member-major: row j is ω_j).
 *
 * @example
 * ```ts
 * const h = hessianFromEnsemble(members, k, n, stats.gram);
 * const { covariance } = laplaceCovariance(h, n);
 * ```
 */
export function hessianFromEnsemble(members: Float64Array, k: number, n: number, gram: Float64Array): Float64Array {
  if (k < n)
    throw new LaplaceError(`the Laplace posterior needs at least as many members as parameters (K = ${k}, n = ${n})`);
  // MᵀM (n × n): the Gram of Mᵀ's rows (one per parameter), and its Cholesky factor
  const mtm = new Float64Array(n * n);
  accumulateGram(transpose(members, k, n), n, k, null, mtm);
  if (!choleskyInPlace(mtm, n))
    throw new LaplaceError("the members do not span the parameters (MᵀM is singular): draw more members");
  // P = M (MᵀM)⁻¹ (K × n): row j solves (MᵀM) p = ω_j
  const p = new Float64Array(k * n);
  for (let j = 0; j < k; j++)
    choleskySolve(mtm, n, members.subarray(j * n, (j + 1) * n), p.subarray(j * n, (j + 1) * n));
  // H = Pᵀ (G P)
  const gp = new Float64Array(k * n),
    h = new Float64Array(n * n);
  addProduct(gram, p, k, k, n, gp, 0);
  addProduct(transpose(p, k, n), gp, n, k, n, h, 0);
  // symmetric by construction up to rounding: take the mean of the two triangles
  for (let a = 0; a < n; a++)
    for (let b = 0; b < a; b++) h[a * n + b] = h[b * n + a] = 0.5 * (h[a * n + b] + h[b * n + a]);
  return h;
}

/** The posterior covariance H⁻¹ (n × n) and the correlations; an H that is not positive
 *  definite (an unidentifiable direction without a prior) is a LaplaceError. */
export function laplaceCovariance(h: Float64Array, n: number): { covariance: Float64Array; correlation: Float64Array } {
  const l = Float64Array.from(h);
  if (!choleskyInPlace(l, n))
    throw new LaplaceError(
      "the Gauss–Newton Hessian at the result is not positive definite: some direction of the " +
        "parameters is not determined by the data (give those parameters a prior)",
    );
  const covariance = new Float64Array(n * n);
  const e = new Float64Array(n),
    col = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    e.fill(0);
    e[c] = 1;
    choleskySolve(l, n, e, col);
    for (let r = 0; r < n; r++) covariance[r * n + c] = col[r];
  }
  for (let a = 0; a < n; a++)
    for (let b = 0; b < a; b++)
      covariance[a * n + b] = covariance[b * n + a] = 0.5 * (covariance[a * n + b] + covariance[b * n + a]);
  const correlation = new Float64Array(n * n);
  for (let a = 0; a < n; a++)
    for (let b = 0; b < n; b++)
      correlation[a * n + b] = covariance[a * n + b] / Math.sqrt(covariance[a * n + a] * covariance[b * n + b]);
  return { covariance, correlation };
}

/** One draw's members (count × n, member-major: the valid ones) and their Gram (count × count). */
export interface DrawStatistics {
  members: Float64Array;
  count: number;
  gram: Float64Array;
}

/** Unknowns of a symmetric n × n matrix: its upper triangle, row by row. */
export const symmetricUnknowns = (n: number) => (n * (n + 1)) / 2;

/**
 * H (n × n) from several draws' statistics: the closed form for one draw with count ≥ n, otherwise
 * the least-squares fit of vech(H) to every draw's equations ω_iᵀHω_j = G[i, j], i ≤ j. The
 * equations are scaled by each draw's mean member norm so their weights do not depend on σ.
 */
export function hessianFromDraws(draws: readonly DrawStatistics[], n: number): Float64Array {
  if (draws.length === 1 && draws[0].count >= n)
    return hessianFromEnsemble(draws[0].members, draws[0].count, n, draws[0].gram);
  const p = symmetricUnknowns(n);
  const at = (a: number, b: number) => a * n - (a * (a - 1)) / 2 + (b - a); // a ≤ b
  const normal = new Float64Array(p * p),
    rhs = new Float64Array(p),
    c = new Float64Array(p);
  let equations = 0;
  for (const d of draws) {
    let sq = 0;
    for (const v of d.members) sq += v * v;
    const scale = d.count > 0 ? d.count / sq : 1; // 1 / mean ‖ω‖²: members of norm ~1
    for (let i = 0; i < d.count; i++)
      for (let j = i; j < d.count; j++) {
        const wi = d.members.subarray(i * n, (i + 1) * n),
          wj = d.members.subarray(j * n, (j + 1) * n);
        for (let a = 0; a < n; a++) {
          c[at(a, a)] = wi[a] * wj[a] * scale;
          for (let b = a + 1; b < n; b++) c[at(a, b)] = (wi[a] * wj[b] + wi[b] * wj[a]) * scale;
        }
        const g = d.gram[i * d.count + j] * scale;
        for (let r = 0; r < p; r++) {
          if (c[r] === 0) continue;
          rhs[r] += c[r] * g;
          for (let q = 0; q <= r; q++) normal[r * p + q] += c[r] * c[q];
        }
        equations++;
      }
  }
  if (equations < p)
    throw new LaplaceError(
      `the draws give ${equations} equations for the ${p} unknowns of the Hessian: draw more members`,
    );
  for (let r = 0; r < p; r++) for (let q = 0; q < r; q++) normal[q * p + r] = normal[r * p + q];
  if (!choleskyInPlace(normal, p))
    throw new LaplaceError("the draws do not determine the Hessian (a singular fit): draw more members");
  const vech = new Float64Array(p);
  choleskySolve(normal, p, rhs, vech);
  const h = new Float64Array(n * n);
  for (let a = 0; a < n; a++) for (let b = a; b < n; b++) h[a * n + b] = h[b * n + a] = vech[at(a, b)];
  return h;
}

/** Draws of K members that determine an n-parameter Hessian: one when K ≥ n, else enough equations
 *  (K(K+1)/2 per draw) for its n(n+1)/2 unknowns, and one more so the fit is overdetermined. */
export const drawsFor = (k: number, n: number) =>
  k >= n ? 1 : Math.ceil(symmetricUnknowns(n) / symmetricUnknowns(k)) + 1;
