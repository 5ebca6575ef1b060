// Applying a trained network to raw rows (pure): rows from CSV text (columns matched by name, in
// any order) or from a matrix already in the model's feature order; the training standardization;
// the float64 reference forward (models/model.ts); labels in the original class names, or targets
// in their original units. Used by enkf predict and POST /jobs/{id}/predict. Errors name the row
// and the column.

import { cellNumber, parseCsv } from "../data/csvRecords.ts";
import { DataError } from "../data/errors.ts";
import { modelForward, type NetworkModel } from "../models/model.ts";
import type { ModelCard } from "./modelCard.ts";

/** Raw rows in the model's feature order: rows × features, row-major. */
export interface Rows {
  x: Float64Array;
  rows: number;
}

/** Rows of CSV text with a header: every feature column by name, in any order; the label column
 *  may be there too (it is ignored); any other column is an error, as is a missing one. */
export function rowsFromCsv(card: ModelCard, text: string, where: string): Rows {
  const records = parseCsv(text, where);
  if (records.length === 0) throw new DataError(`${where}: the file is empty`);
  const header = records[0].fields.map((h) => h.trim());
  const twice = header.find((h, i) => header.indexOf(h) !== i);
  if (twice !== undefined) throw new DataError(`${where}: line 1: column "${twice}" appears twice`);
  const at = new Map(header.map((h, i) => [h, i]));
  const missing = card.features.filter((f) => !at.has(f));
  if (missing.length)
    throw new DataError(
      `${where}: missing column${missing.length > 1 ? "s" : ""} ` +
        `${missing.map((m) => `"${m}"`).join(", ")} (the model takes ${card.features.length} ` +
        `features: ${preview(card.features)})`,
    );
  const known = new Set([...card.features, ...(card.label !== undefined ? [card.label] : [])]);
  const extra = header.filter((h) => !known.has(h));
  if (extra.length)
    throw new DataError(
      `${where}: unexpected column${extra.length > 1 ? "s" : ""} ` +
        `${extra.map((m) => `"${m}"`).join(", ")} (the model takes ` +
        `${preview(card.features)}${card.label !== undefined ? `, and ignores "${card.label}"` : ""})`,
    );
  const cols = card.features.map((f) => at.get(f)!);
  const d = cols.length,
    rows = records.length - 1;
  const x = new Float64Array(rows * d);
  for (let r = 0; r < rows; r++) {
    const { fields } = records[r + 1];
    if (fields.length !== header.length)
      throw new DataError(`${where}: row ${r + 1}: expected ${header.length} columns, found ${fields.length}`);
    for (let j = 0; j < d; j++) {
      const v = cellNumber(fields[cols[j]]);
      if (typeof v === "string") throw new DataError(`${where}: row ${r + 1}, column "${card.features[j]}": ${v}`);
      x[r * d + j] = v;
    }
  }
  return { x, rows };
}

/** Rows given as objects by column name (JSON), checked as rowsFromCsv checks a header. */
export function rowsFromObjects(card: ModelCard, objects: readonly Record<string, unknown>[], where: string): Rows {
  const d = card.features.length,
    x = new Float64Array(objects.length * d);
  const known = new Set([...card.features, ...(card.label !== undefined ? [card.label] : [])]);
  objects.forEach((o, r) => {
    if (typeof o !== "object" || o === null || Array.isArray(o))
      throw new DataError(`${where}: row ${r + 1}: expected an object of column values`);
    const extra = Object.keys(o).filter((k) => !known.has(k));
    if (extra.length)
      throw new DataError(
        `${where}: row ${r + 1}: unexpected column${extra.length > 1 ? "s" : ""} ` +
          `${extra.map((m) => `"${m}"`).join(", ")}`,
      );
    card.features.forEach((f, j) => {
      const v = o[f];
      if (v === undefined) throw new DataError(`${where}: row ${r + 1}: missing column "${f}"`);
      // JSON reads 1e309 as Infinity
      if (typeof v === "number" && !Number.isFinite(v))
        throw new DataError(`${where}: row ${r + 1}, column "${f}": the value is out of range for a 64-bit number`);
      if (typeof v !== "number")
        throw new DataError(
          `${where}: row ${r + 1}, column "${f}": ${JSON.stringify(v)?.slice(0, 40)} is not a number`,
        );
      x[r * d + j] = v;
    });
  });
  return { x, rows: objects.length };
}

/** Rows as a matrix in the model's feature order (a .npy of shape (rows, features)). */
export function rowsFromMatrix(
  card: ModelCard,
  data: ArrayLike<number>,
  shape: readonly number[],
  where: string,
): Rows {
  const d = card.features.length;
  if (shape.length !== 2 || shape[1] !== d)
    throw new DataError(`${where}: expected shape (rows, ${d}), got (${shape.join(", ")})`);
  const x = Float64Array.from(data);
  for (let i = 0; i < x.length; i++)
    if (!Number.isFinite(x[i]))
      throw new DataError(
        `${where}: row ${Math.floor(i / d) + 1}, column "${card.features[i % d]}": not a finite number`,
      );
  return { x, rows: shape[0] };
}

export interface Predictions {
  rows: number;
  /** the network's outputs, rows × outputs: logits (classification) or targets (regression) */
  outputs: Float64Array;
  /** classification: the class index and name per row, and the softmax probabilities */
  labels?: { index: Int32Array; names: string[] };
  probabilities?: Float64Array;
}

/** The model applied to raw rows: standardized as the training rows were, then the forward. */
export function predict(card: ModelCard, theta: Float64Array, rows: Rows): Predictions {
  if (theta.length !== card.theta.parameters)
    throw new DataError(`θ has ${theta.length} parameters, the model ${card.theta.parameters}`);
  const d = card.features.length,
    c = card.outputs.length,
    m = rows.rows;
  const x = Float64Array.from(rows.x);
  if (card.standardization) {
    const { mean, scale } = card.standardization;
    for (let i = 0; i < m; i++) for (let j = 0; j < d; j++) x[i * d + j] = (x[i * d + j] - mean[j]) * scale[j];
  }
  const outputs = new Float64Array(m * c);
  if (m > 0) modelForward(card.model as NetworkModel, theta, x, m, outputs);
  if (card.kind === "regression") return { rows: m, outputs };
  const index = new Int32Array(m),
    probabilities = new Float64Array(m * c);
  for (let i = 0; i < m; i++) {
    let best = 0,
      max = -Infinity;
    for (let k = 0; k < c; k++)
      if (outputs[i * c + k] > max) {
        max = outputs[i * c + k];
        best = k;
      }
    index[i] = best;
    let sum = 0;
    for (let k = 0; k < c; k++) {
      const e = Math.exp(outputs[i * c + k] - max);
      probabilities[i * c + k] = e;
      sum += e;
    }
    for (let k = 0; k < c; k++) probabilities[i * c + k] /= sum;
  }
  return { rows: m, outputs, labels: { index, names: Array.from(index, (k) => card.outputs[k]) }, probabilities };
}

/** Predictions as CSV: `label` (and p_<class> columns with probabilities), or the target columns. */
export function predictionsCsv(card: ModelCard, p: Predictions, probabilities = false): string {
  const c = card.outputs.length;
  const cell = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines: string[] = [];
  if (p.labels) {
    lines.push(["label", ...(probabilities ? card.outputs.map((n) => `p_${n}`) : [])].map(cell).join(","));
    for (let i = 0; i < p.rows; i++)
      lines.push(
        [
          cell(p.labels.names[i]),
          ...(probabilities ? Array.from(p.probabilities!.subarray(i * c, (i + 1) * c), String) : []),
        ].join(","),
      );
  } else {
    lines.push(card.outputs.map(cell).join(","));
    for (let i = 0; i < p.rows; i++) lines.push(Array.from(p.outputs.subarray(i * c, (i + 1) * c), String).join(","));
  }
  return lines.join("\n") + "\n";
}

/** Predictions as JSON rows (the HTTP API's answer). */
export function predictionsJson(card: ModelCard, p: Predictions, probabilities = false): Record<string, unknown>[] {
  const c = card.outputs.length;
  return Array.from({ length: p.rows }, (_, i) =>
    p.labels
      ? {
          label: p.labels.names[i],
          ...(probabilities
            ? { probabilities: Object.fromEntries(card.outputs.map((n, k) => [n, p.probabilities![i * c + k]])) }
            : {}),
        }
      : Object.fromEntries(card.outputs.map((n, k) => [n, p.outputs[i * c + k]])),
  );
}

const preview = (names: readonly string[]) =>
  names.length <= 8 ? names.join(", ") : `${names.slice(0, 6).join(", ")}, … ${names[names.length - 1]}`;
