// A network job's peak memory on this machine (enkf serve, enkf run, enkf plan), before it runs:
// a model of its parts whose constants were measured (peak RSS of `enkf run` over MNIST and a
// small CSV, MLPs from [64] to [3000, 3000], K from 2 to 50, 1 to 4 shards: docs/reliability.md),
// and a margin, so that an estimate is above what the job uses. Pure.
//
//   peak ≈ (runtime + data + n·perParameter + workers·(n·(K+1)·perMember + activations + 8K²)
//           + 5·8K²) · margin
//
// runtime: Node, ONNX Runtime and the evaluate workers, loaded; data: the dataset as the workers
// and the reducer hold it; n·perParameter: θ, the best and last θ, the step and the statistics'
// buffers; per worker (each evaluate thread has its own kernel): the K+1 members' packed weights,
// the forward's activations for its rows of the batch and its K×K statistics; and the reduction's
// K×K float64 arrays: the running sum and a partial (packed, one K² together), the statistics, the
// solve's system and its factor, and the blocked factorization's copy (not measured: counted, as
// they are allocated; 640 MiB at K = 4096, next to nothing at K = 50).

import type { Dataset } from "../data/types.ts";
import { cnnLayout } from "../models/cnn.ts";
import { mlpLayout } from "../models/mlp.ts";
import { parameterCount, type NetworkModel } from "../models/model.ts";

const MB = 2 ** 20;
export const MEMORY_MODEL = {
  runtimeBytes: 310 * MB,
  /** resident bytes per byte of float32 features */
  dataFactor: 11,
  perParameterBytes: 130,
  /** per parameter per member, in each worker's kernel */
  perMemberBytes: 5.4,
  /** per activation value (float32, kept with its copy) */
  perActivationBytes: 8,
  margin: 1.15,
} as const;

export interface MemoryInput {
  model: NetworkModel;
  /** K */
  ensembleSize: number;
  /** rows of the batch (the training rows when there is no batch) */
  batchRows: number;
  /** training shards (a worker's rows are its shard's part of the batch) */
  shards: number;
  /** evaluate threads holding a kernel at once (1 in process) */
  workers: number;
  /** float32 feature and target bytes of the whole dataset */
  dataBytes: number;
}

export interface MemoryEstimate {
  bytes: number;
  parts: { what: string; bytes: number }[];
}

/** Activations one row of one member produces (every layer's outputs). */
function activationsPerRow(m: NetworkModel): number {
  if (m.type === "mlp") return mlpLayout(m).layers.reduce((s, l) => s + l.outputs, 0);
  const c = cnnLayout(m);
  return c.convs.reduce((s, l) => s + l.cout * (l.hconv * l.wconv + l.hout * l.wout), 0) + c.dense.outputs;
}

export function jobMemory(x: MemoryInput): MemoryEstimate {
  const m = MEMORY_MODEL;
  const n = parameterCount(x.model);
  const members = x.ensembleSize + 1;
  const rowsPerWorker = Math.ceil(x.batchRows / Math.max(1, x.shards));
  const parts = [
    { what: "the runtime (Node, ONNX Runtime, the workers)", bytes: m.runtimeBytes },
    {
      what: `the data (${(x.dataBytes / MB).toFixed(0)} MB of features as the workers hold them)`,
      bytes: x.dataBytes * m.dataFactor,
    },
    { what: `θ and the step's buffers (${n.toLocaleString("en-US")} parameters)`, bytes: n * m.perParameterBytes },
    {
      what: `the members' weights (K + 1 = ${members}, in each of ${x.workers} worker${x.workers === 1 ? "" : "s"})`,
      bytes: x.workers * n * members * m.perMemberBytes,
    },
    {
      what: `the forward's activations (${rowsPerWorker} rows per worker)`,
      bytes: x.workers * rowsPerWorker * activationsPerRow(x.model) * members * m.perActivationBytes,
    },
    {
      what: `the K×K statistics and solve (K = ${x.ensembleSize})`,
      bytes: (x.workers + 5) * 8 * x.ensembleSize * x.ensembleSize,
    },
  ];
  const sum = parts.reduce((s, p) => s + p.bytes, 0);
  return { bytes: Math.ceil(sum * m.margin), parts };
}

/** The float32 bytes of a dataset's features and targets, every split. */
export function datasetBytes(d: Pick<Dataset, "features" | "outputs" | "train" | "test" | "validation">): number {
  const rows = d.train.rows + d.test.rows + (d.validation?.rows ?? 0);
  return rows * (d.features + d.outputs) * 4;
}

/** "2.4 GiB" */
export const formatBytes = (b: number) =>
  b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(1)} GiB` : `${Math.round(b / MB)} MiB`;
