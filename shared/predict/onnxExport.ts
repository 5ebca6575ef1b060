// A trained network as a standalone ONNX model (opset 15): input `x` [batch, features] takes raw
// rows in model.json's feature order; the training standardization (x − mean)·scale is inside the
// graph; the trained weights are float32 initializers. Outputs: `logits`, `probabilities`
// (softmax) and `label` (int64 class index into model.json's outputs) for classification, or
// `output` (the targets in their original units) for regression. MLPs and CNNs, the layouts of
// models/mlp.ts and models/cnn.ts.

import onnxProto from "onnx-proto";
import { activation, attrInt, attrInts, GraphBuilder, valueInfo } from "../kernels/onnxGraph.ts";
import { cnnLayout } from "../models/cnn.ts";
import { mlpLayout } from "../models/mlp.ts";
import type { NetworkModel } from "../models/model.ts";
import type { ModelCard } from "./modelCard.ts";

const { onnx } = onnxProto;

export function exportOnnx(card: ModelCard, theta: Float64Array): Uint8Array {
  const model = card.model as NetworkModel;
  const d = card.features.length,
    c = card.outputs.length;
  const g = new GraphBuilder();
  const slice = (offset: number, count: number) => theta.subarray(offset, offset + count);
  let h = "x";
  if (card.standardization) {
    h = g.op("Mul", [
      g.op("Sub", [h, g.floats("mean", [d], card.standardization.mean)]),
      g.floats("scale", [d], card.standardization.scale),
    ]);
  }
  if (model.type === "mlp") {
    const { layers } = mlpLayout(model);
    layers.forEach((l, i) => {
      const z = g.op("Add", [
        g.op("MatMul", [h, g.floats(`W${i}`, [l.inputs, l.outputs], slice(l.weightOffset, l.inputs * l.outputs))]),
        g.floats(`b${i}`, [l.outputs], slice(l.biasOffset, l.outputs)),
      ]);
      h = i < layers.length - 1 ? activation(g, model.activation, z) : z;
    });
  } else {
    const layout = cnnLayout(model);
    const k = model.kernel,
      p = model.pool;
    h = g.op("Reshape", [h, g.ints("image_shape", [-1, ...model.input])]);
    layout.convs.forEach((l, i) => {
      const conv = g.op(
        "Conv",
        [
          h,
          g.floats(`W${i}`, [l.cout, l.cin, k, k], slice(l.weightOffset, l.cout * l.cin * k * k)),
          g.floats(`b${i}`, [l.cout], slice(l.biasOffset, l.cout)),
        ],
        [attrInts("kernel_shape", [k, k])],
      );
      h = g.op(
        "MaxPool",
        [activation(g, model.activation, conv)],
        [attrInts("kernel_shape", [p, p]), attrInts("strides", [p, p])],
      );
    });
    const dense = layout.dense;
    h = g.op("Reshape", [h, g.ints("flat_shape", [-1, dense.inputs])]);
    h = g.op("Add", [
      g.op("MatMul", [
        h,
        g.floats("Wd", [dense.inputs, dense.outputs], slice(dense.weightOffset, dense.inputs * dense.outputs)),
      ]),
      g.floats("bd", [dense.outputs], slice(dense.biasOffset, dense.outputs)),
    ]);
  }
  const outputs = [];
  if (card.kind === "classification") {
    g.op("Identity", [h], [], "logits");
    g.op("Softmax", ["logits"], [attrInt("axis", 1)], "probabilities");
    g.op("ArgMax", ["logits"], [attrInt("axis", 1), attrInt("keepdims", 0)], "label");
    outputs.push(
      valueInfo("logits", ["batch", c]),
      valueInfo("probabilities", ["batch", c]),
      valueInfo("label", ["batch"], onnx.TensorProto.DataType.INT64),
    );
  } else {
    g.op("Identity", [h], [], "output");
    outputs.push(valueInfo("output", ["batch", c]));
  }
  const graph = onnx.GraphProto.create({
    name: "enkf_model",
    input: [valueInfo("x", ["batch", d])],
    output: outputs,
    initializer: g.initializers,
    node: g.nodes,
    docString: `features: ${card.features.join(", ")}; outputs: ${card.outputs.join(", ")}`,
  });
  const proto = onnx.ModelProto.create({
    irVersion: 8,
    producerName: "enkf-service",
    docString: "trained with the modified ensemble Kalman filter (enkf export)",
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: "", version: 15 })],
    graph,
    metadataProps: [
      onnx.StringStringEntryProto.create({ key: "features", value: JSON.stringify(card.features) }),
      onnx.StringStringEntryProto.create({ key: "outputs", value: JSON.stringify(card.outputs) }),
      onnx.StringStringEntryProto.create({ key: "kind", value: card.kind }),
    ],
  });
  return onnx.ModelProto.encode(proto).finish();
}
