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

function valueInfo(name: string, dims: Dim[], elemType: number = onnx.TensorProto.DataType.FLOAT) {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType,
        shape: onnx.TensorShapeProto.create({
          dim: dims.map((d) => onnx.TensorShapeProto.Dimension.create(typeof d === "string" ? { dimParam: d } : { dimValue: d })),
        }),
      }),
    }),
  });
}

const int64s = (name: string, values: number[]) => onnx.TensorProto.create({ name, dataType: onnx.TensorProto.DataType.INT64, dims: [values.length], int64Data: values });
const scalar = (name: string, value: number) => onnx.TensorProto.create({ name, dataType: onnx.TensorProto.DataType.FLOAT, dims: [], floatData: [value] });
const scalar64 = (name: string, value: number) => onnx.TensorProto.create({ name, dataType: onnx.TensorProto.DataType.DOUBLE, dims: [], doubleData: [value] });
const DOUBLE = onnx.TensorProto.DataType.DOUBLE;
const attrInt = (name: string, i: number) => onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i });

class GraphBuilder {
  readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private count = 0;
  op(opType: string, inputs: string[], attrs: InstanceType<typeof onnx.AttributeProto>[] = [], output?: string): string {
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
}

function activation(g: GraphBuilder, kind: Activation, x: string): string {
  switch (kind) {
    case "tanh": return g.op("Tanh", [x]);
    case "relu": return g.op("Relu", [x]);
    case "sigmoid": return g.op("Sigmoid", [x]);
    case "gelu": {
      // 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))), the same formula as models/activations.ts
      const x3 = g.op("Mul", [g.op("Mul", [x, x]), x]);
      const inner = g.op("Mul", [g.op("Add", [x, g.op("Mul", [x3, g.constant("gelu_a", 0.044715)])]), g.constant("gelu_c", Math.sqrt(2 / Math.PI))]);
      const t = g.op("Add", [g.op("Tanh", [inner]), g.constant("one", 1)]);
      return g.op("Mul", [g.op("Mul", [x, t]), g.constant("half", 0.5)]);
    }
  }
}

/** Input names, in order: X, then W0, B0, W1, B1, …; output "logits". */
export function mlpEnsembleInputNames(spec: MlpSpec): string[] {
  const names = ["X"];
  for (let l = 0; l <= spec.hidden.length; l++) names.push(`W${l}`, `B${l}`);
  return names;
}

/**
 * The sufficient statistics in float64, inside the graph (inputs Y[m, C]: one-hot labels or
 * targets, and scale = 1/m): member 0 is θ, Q = F(θ+ω) − F(θ) for members 1…K, and
 *   cross-entropy:  P = softmax(F0), g = s(P − Y), QᵀWQ = (Q√(sP))(Q√(sP))ᵀ − (√s·ΣcQP)(√s·ΣcQP)ᵀ,
 *                   Φ = −s·Σ Y ⊙ logsoftmax(F0);
 *   least squares:  QᵀWQ = s·QQᵀ, Qᵀg = s·Q(F0 − Y), Φ = ½s·‖F0 − Y‖².
 * Outputs "gram" [K, K], "rhs" [K], "phi" [] (all double); finish() adds "theta_logits" [1, m, C].
 */
function addStatistics(g: GraphBuilder, loss: "cross-entropy" | "least-squares"): void {
  const toDouble = onnx.AttributeProto.create({ name: "to", type: onnx.AttributeProto.AttributeType.INT, i: DOUBLE });
  const l64 = g.op("Cast", ["logits"], [toDouble]);
  const y64 = g.op("Cast", ["Y"], [toDouble]);
  const f0 = g.op("Slice", [l64, g.ints("i64_zero", [0]), g.ints("i64_one", [1]), g.ints("i64_zero", [0])]);
  const fk = g.op("Slice", [l64, g.ints("i64_one", [1]), g.ints("i64_end", [2 ** 53]), g.ints("i64_zero", [0])]);
  const q = g.op("Sub", [fk, f0]);
  const flat = g.ints("i64_flat", [0, -1]);
  const column = g.ints("i64_column", [-1, 1]);
  const vector = g.ints("i64_vector", [-1]);
  const qf = g.op("Reshape", [q, flat]);
  const gramOf = (a: string) => g.op("MatMul", [a, g.op("Transpose", [a])]);
  if (loss === "cross-entropy") {
    const p = g.op("Softmax", [f0], [attrInt("axis", 2)]);
    const grad = g.op("Mul", [g.op("Sub", [p, y64]), "scale"]);
    const qw = g.op("Reshape", [g.op("Mul", [q, g.op("Sqrt", [g.op("Mul", [p, "scale"])])]), flat]);
    const v = g.op("ReduceSum", [g.op("Mul", [q, p]), g.ints("i64_axis2", [2])], [attrInt("keepdims", 0)]);
    const vs = g.op("Mul", [v, g.op("Sqrt", ["scale"])]);
    g.op("Sub", [gramOf(qw), gramOf(vs)], [], "gram");
    g.op("Reshape", [g.op("MatMul", [qf, g.op("Reshape", [grad, column])]), vector], [], "rhs");
    const ll = g.op("ReduceSum", [g.op("Mul", [y64, g.op("LogSoftmax", [f0], [attrInt("axis", 2)])])], [attrInt("keepdims", 0)]);
    g.op("Neg", [g.op("Mul", [ll, "scale"])], [], "phi");
  } else {
    const r = g.op("Sub", [f0, y64]);
    g.op("Mul", [gramOf(qf), "scale"], [], "gram");
    g.op("Mul", [g.op("Reshape", [g.op("MatMul", [qf, g.op("Reshape", [r, column])]), vector]), "scale"], [], "rhs");
    const ss = g.op("ReduceSum", [g.op("Mul", [r, r])], [attrInt("keepdims", 0)]);
    g.op("Mul", [g.op("Mul", [ss, "scale"]), g.constant64("half64", 0.5)], [], "phi");
  }
}

type LossName = "cross-entropy" | "least-squares";
const membersFirst = onnx.AttributeProto.create({ name: "perm", type: onnx.AttributeProto.AttributeType.INTS, ints: [1, 0, 2] });
const attrInts = (name: string, ints: number[]) => onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints });

/** Adds the "logits" output, the statistics when asked, and encodes the model. */
function finish(g: GraphBuilder, name: string, inputs: ReturnType<typeof valueInfo>[], logits: string, outputsPerSample: number, statistics?: LossName): Uint8Array {
  g.op("Identity", [logits], [], "logits");
  const outputs = [valueInfo("logits", ["J", "m", outputsPerSample])];
  if (statistics) {
    inputs.push(valueInfo("Y", ["m", outputsPerSample]), valueInfo("scale", [], DOUBLE));
    addStatistics(g, statistics);
    // F(θ) itself (member 0), for the batch accuracy
    g.op("Slice", ["logits", g.ints("i64_zero", [0]), g.ints("i64_one", [1]), g.ints("i64_zero", [0])], [], "theta_logits");
    outputs.push(valueInfo("gram", ["K", "K"], DOUBLE), valueInfo("rhs", ["K"], DOUBLE), valueInfo("phi", [], DOUBLE), valueInfo("theta_logits", [1, "m", outputsPerSample]));
  }
  const graph = onnx.GraphProto.create({ name, input: inputs, output: outputs, initializer: g.initializers, node: g.nodes });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: "enkf-service",
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: "", version: 15 })],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

export function mlpEnsembleModel(spec: MlpSpec, statistics?: LossName): Uint8Array {
  const sizes = [spec.inputs, ...spec.hidden, spec.outputs];
  const layers = sizes.length - 1;
  const g = new GraphBuilder();
  const inputs = [valueInfo("X", ["m", spec.inputs])];
  const splitMembers = g.ints("members_shape", [0, -1, sizes[1]]);

  // layer 0 over the shared input
  inputs.push(valueInfo("W0", [spec.inputs, `J_x_${sizes[1]}`]), valueInfo("B0", [`J_x_${sizes[1]}`]));
  let z = g.op("Add", [g.op("MatMul", ["X", "W0"]), "B0"]);
  if (layers > 1) z = activation(g, spec.activation, z);
  let h = g.op("Transpose", [g.op("Reshape", [z, splitMembers])], [membersFirst]);
  // later layers, batched over members
  for (let l = 1; l < layers; l++) {
    inputs.push(valueInfo(`W${l}`, ["J", sizes[l], sizes[l + 1]]), valueInfo(`B${l}`, ["J", 1, sizes[l + 1]]));
    z = g.op("Add", [g.op("MatMul", [h, `W${l}`]), `B${l}`]);
    h = l < layers - 1 ? activation(g, spec.activation, z) : z;
  }
  return finish(g, "mlp_ensemble", inputs, h, spec.outputs, statistics);
}

/** Input names, in order: X, then W0, B0, … for each conv layer and the dense layer. */
export function cnnEnsembleInputNames(spec: CnnSpec): string[] {
  const names = ["X"];
  for (let l = 0; l <= spec.channels.length; l++) names.push(`W${l}`, `B${l}`);
  return names;
}

/**
 * The CNN ensemble for exactly J members (ONNX's group attribute is static):
 *   conv 0:  X[m, c0, h, w] with W0[J·c1, c0, k, k] (all members as output channels of one Conv),
 *   conv l:  grouped Conv (group = J) with Wl[J·c_{l+1}, c_l, k, k], each followed by act and max pool,
 *   dense:   reshape to [m, J, F], transpose to [J, m, F], batched MatMul with Wd[J, F, C] + Bd[J, 1, C].
 */
export function cnnEnsembleModel(spec: CnnSpec, members: number, statistics?: LossName): Uint8Array {
  const layout = cnnLayout(spec);
  const g = new GraphBuilder();
  const k = spec.kernel, p = spec.pool;
  const inputs = [valueInfo("X", ["m", ...spec.input])];
  let a = "X";
  layout.convs.forEach((l, i) => {
    inputs.push(valueInfo(`W${i}`, [members * l.cout, l.cin, k, k]), valueInfo(`B${i}`, [members * l.cout]));
    const conv = g.op("Conv", [a, `W${i}`, `B${i}`], [attrInts("kernel_shape", [k, k]), attrInt("group", i === 0 ? 1 : members)]);
    a = g.op("MaxPool", [activation(g, spec.activation, conv)], [attrInts("kernel_shape", [p, p]), attrInts("strides", [p, p])]);
  });
  const { inputs: f, outputs: c } = layout.dense;
  const d = layout.convs.length;
  const h = g.op("Transpose", [g.op("Reshape", [a, g.ints("cnn_members", [0, members, f])])], [membersFirst]);
  inputs.push(valueInfo(`W${d}`, [members, f, c]), valueInfo(`B${d}`, [members, 1, c]));
  return finish(g, "cnn_ensemble", inputs, g.op("Add", [g.op("MatMul", [h, `W${d}`]), `B${d}`]), c, statistics);
}
