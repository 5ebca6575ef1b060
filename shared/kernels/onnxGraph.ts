// Builds, from an MLP spec, one ONNX graph that evaluates all J = K + 1 ensemble members at once:
//   layer 0:  X[m, D] · W0[D, J·H0] + B0[J·H0]  (one GEMM over the shared input), act,
//             reshape to [m, J, H0], transpose to [J, m, H0];
//   layer l:  [J, m, H] · Wl[J, H, H'] + Bl[J, 1, H']  (batched), act on hidden layers;
//   output:   logits[J, m, C].
// m and J are symbolic, so one session serves the ensemble (J = K + 1) and single points (J = 1).
// The protobuf is written with onnx-proto (the ONNX schema compiled by protobufjs).

import onnxProto from "onnx-proto";
import type { MlpSpec } from "../models/mlp.ts";

const { onnx } = onnxProto;
type Dim = number | string;

function valueInfo(name: string, dims: Dim[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: onnx.TensorShapeProto.create({
          dim: dims.map((d) => onnx.TensorShapeProto.Dimension.create(typeof d === "string" ? { dimParam: d } : { dimValue: d })),
        }),
      }),
    }),
  });
}

const int64s = (name: string, values: number[]) => onnx.TensorProto.create({ name, dataType: onnx.TensorProto.DataType.INT64, dims: [values.length], int64Data: values });
const scalar = (name: string, value: number) => onnx.TensorProto.create({ name, dataType: onnx.TensorProto.DataType.FLOAT, dims: [], floatData: [value] });

class GraphBuilder {
  readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private count = 0;
  op(opType: string, inputs: string[], attrs: InstanceType<typeof onnx.AttributeProto>[] = [], output?: string): string {
    const out = output ?? `${opType.toLowerCase()}_${this.count++}`;
    this.nodes.push(onnx.NodeProto.create({ opType, input: inputs, output: [out], attribute: attrs }));
    return out;
  }
  constant(name: string, value: number): string {
    if (!this.initializers.some((t) => t.name === name)) this.initializers.push(scalar(name, value));
    return name;
  }
}

function activation(g: GraphBuilder, kind: MlpSpec["activation"], x: string): string {
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

export function mlpEnsembleModel(spec: MlpSpec): Uint8Array {
  const sizes = [spec.inputs, ...spec.hidden, spec.outputs];
  const layers = sizes.length - 1;
  const g = new GraphBuilder();
  const inputs = [valueInfo("X", ["m", spec.inputs])];
  g.initializers.push(int64s("perm_shape_0", [0, -1, sizes[1]]));
  const transpose = onnx.AttributeProto.create({ name: "perm", type: onnx.AttributeProto.AttributeType.INTS, ints: [1, 0, 2] });

  // layer 0 over the shared input
  inputs.push(valueInfo("W0", [spec.inputs, `J_x_${sizes[1]}`]), valueInfo("B0", [`J_x_${sizes[1]}`]));
  let z = g.op("Add", [g.op("MatMul", ["X", "W0"]), "B0"]);
  if (layers > 1) z = activation(g, spec.activation, z);
  let h = g.op("Transpose", [g.op("Reshape", [z, "perm_shape_0"])], [transpose]);
  // later layers, batched over members
  for (let l = 1; l < layers; l++) {
    inputs.push(valueInfo(`W${l}`, ["J", sizes[l], sizes[l + 1]]), valueInfo(`B${l}`, ["J", 1, sizes[l + 1]]));
    z = g.op("Add", [g.op("MatMul", [h, `W${l}`]), `B${l}`]);
    h = l < layers - 1 ? activation(g, spec.activation, z) : z;
  }
  g.op("Identity", [h], [], "logits");

  const graph = onnx.GraphProto.create({
    name: "mlp_ensemble",
    input: inputs,
    output: [valueInfo("logits", ["J", "m", spec.outputs])],
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
