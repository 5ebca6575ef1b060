// Builds, from a model spec, one ONNX graph that evaluates all J = K + 1 ensemble members at once.
// MLP:
//   layer 0:  X[m, D] · W0[D, J·H0] + B0[J·H0]  (one GEMM over the shared input), act,
//             reshape to [m, J, H0], transpose to [J, m, H0];
//   layer l:  [J, m, H] · Wl[J, H, H'] + Bl[J, 1, H']  (batched), act on hidden layers;
//   output:   logits[J, m, C].
// m and J are symbolic, so one session serves the ensemble (J = K + 1) and single points (J = 1).
// The statistics part is onnxStatistics.ts; the builder, onnxBuilder.ts.

import type { MlpSpec } from "../models/mlp.ts";
import { cnnLayout, type CnnSpec } from "../models/cnn.ts";
import { activation, attrInt, attrInts, DOUBLE, GraphBuilder, onnx, valueInfo } from "./onnxBuilder.ts";
import { addStatistics, gramBlockRanges, statisticsPrecision, type StatisticsGraph } from "./onnxStatistics.ts";

export type { StatisticsGraph } from "./onnxStatistics.ts";
export { gramBlockRanges, statisticsPrecision } from "./onnxStatistics.ts";
export { activation, attrInt, attrInts, GraphBuilder, valueInfo } from "./onnxBuilder.ts";

const membersFirst = onnx.AttributeProto.create({
  name: "perm",
  type: onnx.AttributeProto.AttributeType.INTS,
  ints: [1, 0, 2],
});

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
