// What the ONNX kernel needs to know about each model: its graph, the member tensors and how to
// fill them, the shape of one input batch, and how many activation values a row costs (to size
// the sample chunks that keep a run inside the memory budget).

import type { NetworkModel } from "../models/model.ts";
import { cnnLayout } from "../models/cnn.ts";
import { cnnEnsembleModel, mlpEnsembleModel, type StatisticsGraph } from "./onnxGraph.ts";
import { allocatePacked, packedDirection, packLowRankMember, packMember, type PackedLayer } from "./pack.ts";
import { allocatePackedCnn, packCnnMember, packedCnnDirection } from "./packCnn.ts";
import { perturbation, type EnsembleDraw } from "../math/perturbation.ts";
import { mlpLayout } from "../models/mlp.ts";

export interface OnnxModelAdapter {
  /** the ensemble graph for J members (J = 1: always dense), with the in-graph statistics when `statistics` is given */
  graph(members: number, statistics?: StatisticsGraph): Uint8Array;
  /** the tensors of J members (J = 1: always dense) */
  allocate(members: number, shared: boolean): PackedLayer[];
  /** member j ← params (+ delta) */
  pack(packed: PackedLayer[], members: number, j: number, params: Float64Array, delta?: Float64Array): void;
  /** member j + 1 ← θ + ω_j of `draw`, dense or as factors as the tensors are laid out; `w`: n scratch values */
  packPerturbed(
    packed: PackedLayer[],
    members: number,
    j: number,
    theta: Float64Array,
    draw: EnsembleDraw,
    w: Float64Array,
  ): void;
  /** out ← Σ_j s_j·(member j+1 − member 0) of the packed tensors (pack.ts's packedDirection) */
  direction(packed: PackedLayer[], members: number, s: Float64Array, out: Float64Array): void;
  /** dims of the X feed for `rows` samples */
  xDims(rows: number): number[];
  /** float32 activation values one sample costs in a run over J members (largest layer) */
  activationsPerRow(members: number): number;
}

/** The layer-0 rank an ensemble of `model` is packed at for rank-r draws: r when the MLP's
 *  first weight matrix is factored (min(D, H0) > r), else 0 (dense members built from the factors). */
export function factoredRank(model: NetworkModel, rank: number): number {
  if (model.type !== "mlp" || rank <= 0) return 0;
  const l0 = mlpLayout(model).layers[0];
  return Math.min(l0.inputs, l0.outputs) > rank ? rank : 0;
}

function packDense(pack: OnnxModelAdapter["pack"]): OnnxModelAdapter["packPerturbed"] {
  return (packed, members, j, theta, draw, w) => {
    perturbation(draw, j, w);
    pack(packed, members, j + 1, theta, w);
  };
}

/** `rank`: the factored rank of layer 0 (factoredRank), 0 for dense ensembles. */
export function onnxAdapter(model: NetworkModel, rank = 0): OnnxModelAdapter {
  if (model.type === "mlp") {
    const pack: OnnxModelAdapter["pack"] = (packed, members, j, params, delta) =>
      packMember(model, packed, members, j, params, delta);
    const dense = packDense(pack);
    return {
      graph: (members, statistics) => mlpEnsembleModel(model, statistics, members > 1 ? rank : 0),
      allocate: (members, shared) => allocatePacked(model, members, shared, members > 1 ? rank : 0),
      pack,
      packPerturbed: (packed, members, j, theta, draw, w) =>
        packed[0].factors
          ? packLowRankMember(model, packed, members, j + 1, theta, draw, j, w)
          : dense(packed, members, j, theta, draw, w),
      direction: (packed, members, s, out) => packedDirection(model, packed, members, s, out),
      xDims: (rows) => [rows, model.inputs],
      activationsPerRow: (members) => members * Math.max(model.outputs, ...model.hidden, rank),
    };
  }
  const first = cnnLayout(model).convs[0];
  const pack: OnnxModelAdapter["pack"] = (packed, _members, j, params, delta) =>
    packCnnMember(model, packed, j, params, delta);
  return {
    graph: (members, statistics) => cnnEnsembleModel(model, members, statistics),
    allocate: (members, shared) => allocatePackedCnn(model, members, shared),
    pack,
    packPerturbed: packDense(pack),
    direction: (packed, members, s, out) => packedCnnDirection(model, packed, members, s, out),
    xDims: (rows) => [rows, ...model.input],
    activationsPerRow: (members) => members * first.cout * first.hconv * first.wconv,
  };
}
