// The contract every output-space loss fulfils: Φ_L(F), its gradient g = ∇_F Φ_L, and the
// ensemble products QᵀWQ and Qᵀg with W = ∇²_F Φ_L (Gauss–Newton), computed without forming W.
// Outputs F are Float64Array of length M (sample-major: sample i, output c at i·C + c).
// Perturbation differences Q are member-major: Q[j·M + r] = F(θ+ω_j)[r] − F(θ)[r].

export interface OutputLoss {
  readonly name: "least-squares" | "cross-entropy";
  /** length M of the output vector this loss expects */
  readonly outputSize: number;
  /** Φ_L(F) */
  value(f: Float64Array): number;
  /** g ← ∇_F Φ_L(F); returns Φ_L(F) */
  gradient(f: Float64Array, g: Float64Array): number;
  /**
   * G ← G + QᵀW(F0)Q and b ← b + Qᵀg(F0) for the K member rows of q; returns Φ_L(F0).
   */
  gaussNewton(f0: Float64Array, q: Float64Array, k: number, gram: Float64Array, rhs: Float64Array): number;
}
