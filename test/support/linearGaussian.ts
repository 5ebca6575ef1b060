// The linear-Gaussian inverse problem, whose posterior is known in closed form: G(u) = Au + b with
// noise Γ = diag(std²) and a Gaussian prior N(μ, Σ₀) on unbounded parameters has the posterior
// N(m, C), C = (AᵀΓ⁻¹A + Σ₀⁻¹)⁻¹, m = C(AᵀΓ⁻¹(y − b) + Σ₀⁻¹μ). Computed here by plain Gaussian
// elimination, apart from the product's Cholesky code.

export const n = 3,
  m = 5;
export const A = [
  [1, 0.5, -0.2],
  [0.3, -1, 0.4],
  [0.7, 0.2, 1.1],
  [-0.4, 0.9, 0.3],
  [0.2, 0.1, -0.6],
];
export const b = [0.1, -0.2, 0.3, 0, 0.5];
export const y = [1.2, -0.7, 2.1, 0.4, -0.3];
export const std = [0.1, 0.2, 0.15, 0.3, 0.25];
export const prior = [
  { mean: 0.5, std: 1 },
  { mean: -0.2, std: 0.5 },
  { mean: 1, std: 2 },
];

/** Solves the small dense system a x = rhs (Gaussian elimination with partial pivoting); rhs = I inverts. */
export function solve(a: number[][], rhs: number[][]): number[][] {
  const k = a.length;
  const M = a.map((row, i) => [...row, ...rhs[i]]);
  for (let c = 0; c < k; c++) {
    let p = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = 0; r < k; r++)
      if (r !== c) {
        const f = M[r][c] / M[c][c];
        for (let j = c; j < M[r].length; j++) M[r][j] -= f * M[c][j];
      }
  }
  return M.map((row, i) => row.slice(k).map((v) => v / row[i]));
}

/** The posterior's mean and covariance. */
export function closedForm(): { mean: number[]; cov: number[][] } {
  const precision = Array.from({ length: n }, (_, i) =>
    Array.from(
      { length: n },
      (_, j) => A.reduce((s, row, r) => s + (row[i] * row[j]) / std[r] ** 2, 0) + (i === j ? 1 / prior[i].std ** 2 : 0),
    ),
  );
  const eye = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  const cov = solve(precision, eye);
  const v = Array.from(
    { length: n },
    (_, i) =>
      A.reduce((s, row, r) => s + (row[i] * (y[r] - b[r])) / std[r] ** 2, 0) + prior[i].mean / prior[i].std ** 2,
  );
  const mean = cov.map((row) => row.reduce((s, c, j) => s + c * v[j], 0));
  return { mean, cov };
}

/** The inverse problem's spec (parameters u0, u1, u2; `bounds` per parameter where given). */
export const linearProblem = (bounds?: ([number | null, number | null] | undefined)[]) => ({
  type: "inverse" as const,
  forward: { type: "linear" as const, matrix: A, offset: b },
  observations: { values: y, noise: { std } },
  parameters: prior.map((p, j) => ({ name: `u${j}`, prior: p, ...(bounds?.[j] ? { bounds: bounds[j] } : {}) })),
});
