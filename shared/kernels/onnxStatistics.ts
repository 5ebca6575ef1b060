// The statistics part of an ensemble graph: from the members' logits F (J × m × C) to Φ, QᵀWQ
// (K × K, in row blocks) and Qᵀg (K), so only K² + K numbers leave the session. Per loss:
//   least squares:  Q = F_j − F_0, r = F_0 − Y, QᵀWQ = scale·QQᵀ, Qᵀg = scale·Qr;
//   cross-entropy:  see addStatistics.

import { attrInt, DOUBLE, GraphBuilder, onnx } from "./onnxBuilder.ts";

/** How many row blocks the Gram of K members is computed in: only blocks on or above the
 *  diagonal are multiplied, so 4 blocks cost 10/16 of the full product (blocks of at least 192
 *  members keep each GEMM efficient). */
export function gramBlocks(k: number): number {
  return Math.max(1, Math.min(4, Math.floor(k / 192)));
}

/** The Gram GEMM's precision on the native engine: float64 while it is cheap (K < 384, one block:
 *  about 6 ms at K = 200 for the MNIST batch), float32 beyond, where it is most of the forward
 *  (bench: "what the float32 Gram does to the solve"). The WebAssembly engine is float32 throughout. */
export function statisticsPrecision(k: number): "float32" | "float64" {
  return gramBlocks(k) === 1 ? "float64" : "float32";
}

/** The member ranges [a0, a1) of the Gram's row blocks. */
export function gramBlockRanges(k: number): [number, number][] {
  const b = gramBlocks(k),
    size = Math.ceil(k / b),
    out: [number, number][] = [];
  for (let a0 = 0; a0 < k; a0 += size) out.push([a0, Math.min(k, a0 + size)]);
  return out;
}

/**
 * The sufficient statistics inside the graph (inputs Y[m, C]: one-hot labels or targets, and
 * scale = 1/m): member 0 is θ, Q = F(θ+ω) − F(θ) for members 1…K (float32: the difference of two
 * nearby float32 logits is exact), and
 *   cross-entropy:  P = softmax(F0), v = Σ_c Q⊙P, Qc = (Q − v)⊙√(sP), so QᵀWQ = Qc Qcᵀ (W = diag(P) − PPᵀ
 *                   per sample, as Σ_c P = 1), g = s(P − Y), Φ = −s·Σ Y ⊙ logsoftmax(F0);
 *   least squares:  Qc = √s·Q, QᵀWQ = Qc Qcᵀ, Qᵀg = s·Q(F0 − Y), Φ = ½s·‖F0 − Y‖².
 * The Gram is the GEMM of Qc, one output "gram_a" [a1 − a0, K − a0] per row block a
 * (gramBlockRanges): the blocks on and right of the diagonal, mirrored by the caller, which sums
 * the sample chunks in float64. With `doubles` (the native engine), Qc, Qᵀg and Φ are float64
 * ("rhs" [K], "phi" []) and the GEMM is float64 or, at large K, float32 (statisticsPrecision);
 * without (the WebAssembly engine, slow at float64), everything is float32, Φ is left to the
 * caller (from "theta_logits"), and the scale input is float32.
 */
export function addStatistics(
  g: GraphBuilder,
  loss: "cross-entropy" | "least-squares",
  k: number,
  doubles: boolean,
): void {
  const cast = (to: number) =>
    onnx.AttributeProto.create({ name: "to", type: onnx.AttributeProto.AttributeType.INT, i: to });
  // natively everything after Q is float64 (Q, F0 and Y cast once); in wasm it stays float32
  const wide = (x: string) => (doubles ? g.op("Cast", [x], [cast(DOUBLE)]) : x);
  const f0 = g.op("Slice", ["logits", g.ints("i64_zero", [0]), g.ints("i64_one", [1]), g.ints("i64_zero", [0])]);
  const fk = g.op("Slice", ["logits", g.ints("i64_one", [1]), g.ints("i64_end", [2 ** 53]), g.ints("i64_zero", [0])]);
  const q = wide(g.op("Sub", [fk, f0])),
    theta = wide(f0),
    y = wide("Y");
  const flat = g.ints("i64_flat", [0, -1]);
  let qc: string, residual: string;
  if (loss === "cross-entropy") {
    const p = g.op("Softmax", [theta], [attrInt("axis", 2)]);
    const v = g.op("ReduceSum", [g.op("Mul", [q, p]), g.ints("i64_axis2", [2])], [attrInt("keepdims", 1)]);
    qc = g.op("Mul", [g.op("Sub", [q, v]), g.op("Sqrt", [g.op("Mul", [p, "scale"])])]);
    residual = g.op("Sub", [p, y]);
  } else {
    qc = g.op("Mul", [q, g.op("Sqrt", ["scale"])]);
    residual = g.op("Sub", [theta, y]);
  }
  let qcf = g.op("Reshape", [qc, flat]);
  if (doubles && statisticsPrecision(k) === "float32")
    qcf = g.op("Cast", [qcf], [cast(onnx.TensorProto.DataType.FLOAT)]);
  gramBlockRanges(k).forEach(([a0, a1], a) => {
    const rows = g.op("Slice", [
      qcf,
      g.ints(`i64_gram_${a0}`, [a0]),
      g.ints(`i64_gram_${a1}`, [a1]),
      g.ints("i64_zero", [0]),
    ]);
    const right =
      a0 === 0
        ? qcf
        : g.op("Slice", [qcf, g.ints(`i64_gram_${a0}`, [a0]), g.ints("i64_end", [2 ** 53]), g.ints("i64_zero", [0])]);
    g.op("MatMul", [rows, g.op("Transpose", [right])], [], `gram_${a}`);
  });
  const grad = g.op("Mul", [residual, "scale"]);
  g.op(
    "Reshape",
    [
      g.op("MatMul", [g.op("Reshape", [q, flat]), g.op("Reshape", [grad, g.ints("i64_column", [-1, 1])])]),
      g.ints("i64_vector", [-1]),
    ],
    [],
    "rhs",
  );
  if (!doubles) return;
  if (loss === "cross-entropy") {
    const ll = g.op(
      "ReduceSum",
      [g.op("Mul", [y, g.op("LogSoftmax", [theta], [attrInt("axis", 2)])])],
      [attrInt("keepdims", 0)],
    );
    g.op("Neg", [g.op("Mul", [ll, "scale"])], [], "phi");
  } else {
    const ss = g.op("ReduceSum", [g.op("Mul", [residual, residual])], [attrInt("keepdims", 0)]);
    g.op("Mul", [g.op("Mul", [ss, "scale"]), g.constant64("half64", 0.5)], [], "phi");
  }
}

type LossName = "cross-entropy" | "least-squares";

/** What the statistics part of an ensemble graph needs: the loss, K, and the float64 outputs' engine. */
export interface StatisticsGraph {
  loss: LossName;
  /** K, the perturbed members (the Gram's row blocks are static) */
  k: number;
  /** Qᵀg and Φ in float64 (native engine) or Qᵀg in float32 (WebAssembly) */
  doubles: boolean;
}
