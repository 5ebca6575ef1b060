// Builds, from a model spec, one ONNX graph that evaluates all J = K + 1 ensemble members at once.
// MLP:
//   layer 0:  X[m, D] · W0[D, J·H0] + B0[J·H0]  (one GEMM over the shared input), act,
//             reshape to [m, J, H0], transpose to [J, m, H0];
//   layer l:  [J, m, H] · Wl[J, H, H'] + Bl[J, 1, H']  (batched), act on hidden layers;
//   output:   logits[J, m, C].
// m and J are symbolic, so one session serves the ensemble (J = K + 1) and single points (J = 1).
// The protobuf is written with onnx-proto (the ONNX schema compiled by protobufjs).

import onnxProto from "onnx-proto";
import type { MlpSpec } from "../models/mlp.ts";
import { cnnLayout, type CnnSpec } from "../models/cnn.ts";
import type { Activation } from "../models/activations.ts";

const { onnx } = onnxProto;
type Dim = number | string;

export function valueInfo(name: string, dims: Dim[], elemType: number = onnx.TensorProto.DataType.FLOAT) {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType,
        shape: onnx.TensorShapeProto.create({
          dim: dims.map((d) =>
            onnx.TensorShapeProto.Dimension.create(typeof d === "string" ? { dimParam: d } : { dimValue: d }),
          ),
        }),
      }),
    }),
  });
}

const int64s = (name: string, values: number[]) =>
  onnx.TensorProto.create({
    name,
    dataType: onnx.TensorProto.DataType.INT64,
    dims: [values.length],
    int64Data: values,
  });
const scalar = (name: string, value: number) =>
  onnx.TensorProto.create({ name, dataType: onnx.TensorProto.DataType.FLOAT, dims: [], floatData: [value] });
const scalar64 = (name: string, value: number) =>
  onnx.TensorProto.create({ name, dataType: onnx.TensorProto.DataType.DOUBLE, dims: [], doubleData: [value] });
const DOUBLE = onnx.TensorProto.DataType.DOUBLE;
export const attrInt = (name: string, i: number) =>
  onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i });

export class GraphBuilder {
  readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private count = 0;
  op(
    opType: string,
    inputs: string[],
    attrs: InstanceType<typeof onnx.AttributeProto>[] = [],
    output?: string,
  ): string {
    const out = output ?? `${opType.toLowerCase()}_${this.count++}`;
    this.nodes.push(onnx.NodeProto.create({ opType, input: inputs, output: [out], attribute: attrs }));
    return out;
  }
  private readonly signatures = new Map<string, string>();
  /** Adds an initializer once; reusing a name for different contents is a bug, so it throws. */
  private initializer(name: string, signature: string, make: () => InstanceType<typeof onnx.TensorProto>): string {
    const seen = this.signatures.get(name);
    if (seen === undefined) {
      this.signatures.set(name, signature);
      this.initializers.push(make());
    } else if (seen !== signature) {
      throw new Error(`ONNX initializer "${name}" defined twice with different contents (${seen} vs ${signature})`);
    }
    return name;
  }
  constant(name: string, value: number): string {
    return this.initializer(name, `f32:${value}`, () => scalar(name, value));
  }
  constant64(name: string, value: number): string {
    return this.initializer(name, `f64:${value}`, () => scalar64(name, value));
  }
  ints(name: string, values: number[]): string {
    return this.initializer(name, `i64:${values.join(",")}`, () => int64s(name, values));
  }
  /** A float32 tensor initializer (trained weights); its name must be unique. */
  floats(name: string, dims: number[], values: ArrayLike<number>): string {
    return this.initializer(name, `f32[]:${name}`, () =>
      onnx.TensorProto.create({
        name,
        dataType: onnx.TensorProto.DataType.FLOAT,
        dims,
        floatData: Array.from(values, Math.fround),
      }),
    );
  }
}

export function activation(g: GraphBuilder, kind: Activation, x: string): string {
  switch (kind) {
    case "tanh":
      return g.op("Tanh", [x]);
    case "relu":
      return g.op("Relu", [x]);
    case "sigmoid":
      return g.op("Sigmoid", [x]);
    case "gelu": {
      // 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))), the same formula as models/activations.ts
      const x3 = g.op("Mul", [g.op("Mul", [x, x]), x]);
      const inner = g.op("Mul", [
        g.op("Add", [x, g.op("Mul", [x3, g.constant("gelu_a", 0.044715)])]),
        g.constant("gelu_c", Math.sqrt(2 / Math.PI)),
      ]);
      const t = g.op("Add", [g.op("Tanh", [inner]), g.constant("one", 1)]);
      return g.op("Mul", [g.op("Mul", [x, t]), g.constant("half", 0.5)]);
    }
  }
}

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
function addStatistics(g: GraphBuilder, loss: "cross-entropy" | "least-squares", k: number, doubles: boolean): void {
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
const membersFirst = onnx.AttributeProto.create({
  name: "perm",
  type: onnx.AttributeProto.AttributeType.INTS,
  ints: [1, 0, 2],
});
export const attrInts = (name: string, ints: number[]) =>
  onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints });

/** What the statistics part of an ensemble graph needs: the loss, K, and the float64 outputs' engine. */
export interface StatisticsGraph {
  loss: LossName;
  /** K, the perturbed members (the Gram's row blocks are static) */
  k: number;
  /** Qᵀg and Φ in float64 (native engine) or Qᵀg in float32 (WebAssembly) */
  doubles: boolean;
}

/** Adds the "logits" output, the statistics when asked, and encodes the model. */
function finish(
  g: GraphBuilder,
  name: string,
  inputs: ReturnType<typeof valueInfo>[],
  logits: string,
  outputsPerSample: number,
  statistics?: StatisticsGraph,
): Uint8Array {
  g.op("Identity", [logits], [], "logits");
  const outputs = [valueInfo("logits", ["J", "m", outputsPerSample])];
  if (statistics) {
    const { loss, k, doubles } = statistics;
    inputs.push(
      valueInfo("Y", ["m", outputsPerSample]),
      valueInfo("scale", [], doubles ? DOUBLE : onnx.TensorProto.DataType.FLOAT),
    );
    addStatistics(g, loss, k, doubles);
    const gramType = doubles && statisticsPrecision(k) === "float64" ? DOUBLE : onnx.TensorProto.DataType.FLOAT;
    gramBlockRanges(k).forEach(([a0, a1], a) => outputs.push(valueInfo(`gram_${a}`, [a1 - a0, k - a0], gramType)));
    outputs.push(valueInfo("rhs", [k], doubles ? DOUBLE : onnx.TensorProto.DataType.FLOAT));
    if (doubles) outputs.push(valueInfo("phi", [], DOUBLE));
    // F(θ) itself (member 0), for the batch accuracy
    g.op(
      "Slice",
      ["logits", g.ints("i64_zero", [0]), g.ints("i64_one", [1]), g.ints("i64_zero", [0])],
      [],
      "theta_logits",
    );
    outputs.push(valueInfo("theta_logits", [1, "m", outputsPerSample]));
  }
  const graph = onnx.GraphProto.create({
    name,
    input: inputs,
    output: outputs,
    initializer: g.initializers,
    node: g.nodes,
  });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: "enkf-service",
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: "", version: 15 })],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

/**
 * The MLP ensemble. With `rank` r > 0, layer 0 takes member j's low-rank perturbation
 * σ·A_j B_jᵀ/√r as factors instead of J dense copies:
 *   inputs  W0[D, H0] (θ's), A0[D, J·r] (member j's A_j in columns j·r…j·r+r−1), S0[J, r, H0]
 *           (σ/√r · B_jᵀ), B0[J, 1, H0]; member 0 (θ) has zero factors;
 *   layer 0 X·W0 once, X·A0 for all members in one GEMM, reshaped to [J, m, r] and given a
 *           column of ones, then one batched MatMul with [S0; B0] (the rank-r products and the
 *           biases), plus X·W0.
 * Later layers are batched per member as in the dense graph.
 */
export function mlpEnsembleModel(spec: MlpSpec, statistics?: StatisticsGraph, rank = 0): Uint8Array {
  const sizes = [spec.inputs, ...spec.hidden, spec.outputs];
  const layers = sizes.length - 1;
  const g = new GraphBuilder();
  const inputs = [valueInfo("X", ["m", spec.inputs])];
  let z: string, h: string;
  if (rank > 0) {
    inputs.push(
      valueInfo("W0", [spec.inputs, sizes[1]]),
      valueInfo("A0", [spec.inputs, `J_x_${rank}`]),
      valueInfo("S0", ["J", rank, sizes[1]]),
      valueInfo("B0", ["J", 1, sizes[1]]),
    );
    const xw = g.op("MatMul", ["X", "W0"]);
    const xa = g.op(
      "Transpose",
      [g.op("Reshape", [g.op("MatMul", ["X", "A0"]), g.ints("rank_shape", [0, -1, rank])])],
      [membersFirst],
    );
    // [X·A_j | 1] · [S_j ; b_j]: the rank-r product and the member's bias in one batched MatMul
    const shape = g.op("Shape", [xa]);
    const onesShape = g.op(
      "Concat",
      [g.op("Slice", [shape, g.ints("i64_zero", [0]), g.ints("i64_two", [2])]), g.ints("i64_one", [1])],
      [attrInt("axis", 0)],
    );
    const one = onnx.TensorProto.create({ dataType: onnx.TensorProto.DataType.FLOAT, dims: [1], floatData: [1] });
    const ones = g.op(
      "ConstantOfShape",
      [onesShape],
      [onnx.AttributeProto.create({ name: "value", type: onnx.AttributeProto.AttributeType.TENSOR, t: one })],
    );
    const xa1 = g.op("Concat", [xa, ones], [attrInt("axis", 2)]);
    z = g.op("Add", [g.op("MatMul", [xa1, g.op("Concat", ["S0", "B0"], [attrInt("axis", 1)])]), xw]);
    h = layers > 1 ? activation(g, spec.activation, z) : z;
  } else {
    const splitMembers = g.ints("members_shape", [0, -1, sizes[1]]);
    // layer 0 over the shared input
    inputs.push(valueInfo("W0", [spec.inputs, `J_x_${sizes[1]}`]), valueInfo("B0", [`J_x_${sizes[1]}`]));
    z = g.op("Add", [g.op("MatMul", ["X", "W0"]), "B0"]);
    if (layers > 1) z = activation(g, spec.activation, z);
    h = g.op("Transpose", [g.op("Reshape", [z, splitMembers])], [membersFirst]);
  }
  // later layers, batched over members
  for (let l = 1; l < layers; l++) {
    inputs.push(valueInfo(`W${l}`, ["J", sizes[l], sizes[l + 1]]), valueInfo(`B${l}`, ["J", 1, sizes[l + 1]]));
    z = g.op("Add", [g.op("MatMul", [h, `W${l}`]), `B${l}`]);
    h = l < layers - 1 ? activation(g, spec.activation, z) : z;
  }
  return finish(g, "mlp_ensemble", inputs, h, spec.outputs, statistics);
}

/**
 * The CNN ensemble for exactly J members (ONNX's group attribute is static):
 *   conv 0:  X[m, c0, h, w] with W0[J·c1, c0, k, k] (all members as output channels of one Conv),
 *   conv l:  grouped Conv (group = J) with Wl[J·c_{l+1}, c_l, k, k], each followed by act and max pool,
 *   dense:   reshape to [m, J, F], transpose to [J, m, F], batched MatMul with Wd[J, F, C] + Bd[J, 1, C].
 */
export function cnnEnsembleModel(spec: CnnSpec, members: number, statistics?: StatisticsGraph): Uint8Array {
  const layout = cnnLayout(spec);
  const g = new GraphBuilder();
  const k = spec.kernel,
    p = spec.pool;
  const inputs = [valueInfo("X", ["m", ...spec.input])];
  let a = "X";
  layout.convs.forEach((l, i) => {
    inputs.push(valueInfo(`W${i}`, [members * l.cout, l.cin, k, k]), valueInfo(`B${i}`, [members * l.cout]));
    const conv = g.op(
      "Conv",
      [a, `W${i}`, `B${i}`],
      [attrInts("kernel_shape", [k, k]), attrInt("group", i === 0 ? 1 : members)],
    );
    a = g.op(
      "MaxPool",
      [activation(g, spec.activation, conv)],
      [attrInts("kernel_shape", [p, p]), attrInts("strides", [p, p])],
    );
  });
  const { inputs: f, outputs: c } = layout.dense;
  const d = layout.convs.length;
  const h = g.op("Transpose", [g.op("Reshape", [a, g.ints("cnn_members", [0, members, f])])], [membersFirst]);
  inputs.push(valueInfo(`W${d}`, [members, f, c]), valueInfo(`B${d}`, [members, 1, c]));
  return finish(g, "cnn_ensemble", inputs, g.op("Add", [g.op("MatMul", [h, `W${d}`]), `B${d}`]), c, statistics);
}
