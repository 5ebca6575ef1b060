// The ONNX graph builder the kernels' ensemble graphs and the model export share: value infos,
// initializers, nodes and activations, written with onnx-proto (the ONNX schema compiled by
// protobufjs).

import onnxProto from "onnx-proto";
import type { Activation } from "../models/activations.ts";

export const { onnx } = onnxProto;
export type Dim = number | string;

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

export const int64s = (name: string, values: number[]) =>
  onnx.TensorProto.create({
    name,
    dataType: onnx.TensorProto.DataType.INT64,
    dims: [values.length],
    int64Data: values,
  });
export const scalar = (name: string, value: number) =>
  onnx.TensorProto.create({ name, dataType: onnx.TensorProto.DataType.FLOAT, dims: [], floatData: [value] });
export const scalar64 = (name: string, value: number) =>
  onnx.TensorProto.create({ name, dataType: onnx.TensorProto.DataType.DOUBLE, dims: [], doubleData: [value] });
export const DOUBLE = onnx.TensorProto.DataType.DOUBLE;
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

export const attrInts = (name: string, ints: number[]) =>
  onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints });
