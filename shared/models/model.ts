// The network models behind one interface: parameter count, seeded init, reference forward.

import { cnnForward, cnnLayout, initCnn, type CnnSpec } from "./cnn.ts";
import { initMlp, mlpForward, mlpLayout, type MlpSpec } from "./mlp.ts";
import type { FactoredBlock } from "../math/perturbation.ts";

export type NetworkModel = ({ type: "mlp" } & MlpSpec) | ({ type: "cnn" } & CnnSpec);

export function modelInputs(m: NetworkModel): number {
  return m.type === "mlp" ? m.inputs : m.input[0] * m.input[1] * m.input[2];
}

export function parameterCount(m: NetworkModel): number {
  return m.type === "mlp" ? mlpLayout(m).parameterCount : cnnLayout(m).parameterCount;
}

/** The model's dense weight matrices (X·W layouts), the blocks low-rank perturbations factor. */
export function denseMatrices(m: NetworkModel): FactoredBlock[] {
  if (m.type === "mlp")
    return mlpLayout(m).layers.map((l) => ({ offset: l.weightOffset, rows: l.inputs, cols: l.outputs }));
  const d = cnnLayout(m).dense;
  return [{ offset: d.weightOffset, rows: d.inputs, cols: d.outputs }];
}

export function initModel(m: NetworkModel, seed: number): Float64Array {
  return m.type === "mlp" ? initMlp(m, seed) : initCnn(m, seed);
}

/** Reference forward in float64: x is rows × inputs, out receives rows × outputs. */
export function modelForward(
  m: NetworkModel,
  theta: ArrayLike<number>,
  x: ArrayLike<number>,
  rows: number,
  out: Float64Array,
): void {
  if (m.type === "mlp") mlpForward(m, theta, x, rows, out);
  else cnnForward(m, theta, x, rows, out);
}
