// What the ONNX kernel needs to know about each model: its graph, the member tensors and how to
// fill them, the shape of one input batch, and how many activation values a row costs (to size
// the sample chunks that keep a run inside the memory budget).

import type { NetworkModel } from "../models/model.ts";
import { cnnLayout } from "../models/cnn.ts";
import { cnnEnsembleInputNames, cnnEnsembleModel, mlpEnsembleInputNames, mlpEnsembleModel } from "./onnxGraph.ts";
import { allocatePacked, allocatePackedCnn, packCnnMember, packedCnnDirection, packedDirection, packMember, type PackedLayer } from "./pack.ts";

export type LossName = "cross-entropy" | "least-squares";

export interface OnnxModelAdapter {
  readonly inputNames: string[];
  /** the ensemble graph for J members, with the in-graph statistics when `statistics` is given */
  graph(members: number, statistics?: LossName): Uint8Array;
  allocate(members: number, shared: boolean): PackedLayer[];
  /** member j ← params (+ delta) */
  pack(packed: PackedLayer[], members: number, j: number, params: Float64Array, delta?: Float64Array): void;
  /** out ← Σ_j s_j·(member j+1 − member 0) of the packed tensors (pack.ts's packedDirection) */
  direction(packed: PackedLayer[], members: number, s: Float64Array, out: Float64Array): void;
  /** dims of the X feed for `rows` samples */
  xDims(rows: number): number[];
  /** float32 activation values one sample costs in a run over J members (largest layer) */
  activationsPerRow(members: number): number;
}

export function onnxAdapter(model: NetworkModel): OnnxModelAdapter {
  if (model.type === "mlp") {
    return {
      inputNames: mlpEnsembleInputNames(model),
      graph: (_members, statistics) => mlpEnsembleModel(model, statistics),
      allocate: (members, shared) => allocatePacked(model, members, shared),
      pack: (packed, members, j, params, delta) => packMember(model, packed, members, j, params, delta),
      direction: (packed, members, s, out) => packedDirection(model, packed, members, s, out),
      xDims: (rows) => [rows, model.inputs],
      activationsPerRow: (members) => members * Math.max(model.outputs, ...model.hidden),
    };
  }
  const first = cnnLayout(model).convs[0];
  return {
    inputNames: cnnEnsembleInputNames(model),
    graph: (members, statistics) => cnnEnsembleModel(model, members, statistics),
    allocate: (members, shared) => allocatePackedCnn(model, members, shared),
    pack: (packed, _members, j, params, delta) => packCnnMember(model, packed, j, params, delta),
    direction: (packed, members, s, out) => packedCnnDirection(model, packed, members, s, out),
    xDims: (rows) => [rows, ...model.input],
    activationsPerRow: (members) => members * first.cout * first.hconv * first.wconv,
  };
}
