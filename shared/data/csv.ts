// CSV → Dataset: a header row names the columns; `label` is the class (classification) or the
// target (regression); every other column is a numeric feature. Rows are split train/test by a
// seeded shuffle, and features are standardized with training statistics only. Errors name the
// file, the line and the column. Pure: text in, Dataset out.

import { fillUniform, Stream } from "../math/rng.ts";
import type { Dataset } from "./types.ts";

export class DataError extends Error {
  override name = "DataError";
}

export interface CsvOptions {
  label: string;
  kind: "classification" | "regression";
  standardize: boolean;
  testFraction: number;
  seed: number;
}

interface Record_ { fields: string[]; line: number }

/** RFC 4180 records: quoted fields may hold commas, quotes ("") and newlines. */
export function parseCsv(text: string, file: string): Record_[] {
  const records: Record_[] = [];
  let fields: string[] = [];
  let field = "";
  let line = 1, start = 1;
  let quoted = false, wasQuoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') { field += '"'; i++; } else quoted = false;
      } else {
        if (ch === "\n") line++;
        field += ch;
      }
      continue;
    }
    if (ch === '"') {
      if (field.trim() !== "") throw new DataError(`${file}: line ${line}: a quote inside an unquoted field`);
      quoted = true; wasQuoted = true; field = "";
    } else if (ch === ",") {
      fields.push(field); field = ""; wasQuoted = false;
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      fields.push(field);
      if (!(fields.length === 1 && fields[0].trim() === "" && !wasQuoted)) records.push({ fields, line: start });
      fields = []; field = ""; wasQuoted = false;
      line++; start = line;
    } else {
      field += ch;
    }
  }
  if (quoted) throw new DataError(`${file}: line ${start}: unterminated quoted field`);
  fields.push(field);
  if (!(fields.length === 1 && fields[0].trim() === "" && !wasQuoted)) records.push({ fields, line: start });
  return records;
}

function compareLabels(a: string, b: string): number {
  const x = Number(a), y = Number(b);
  if (a.trim() !== "" && b.trim() !== "" && Number.isFinite(x) && Number.isFinite(y)) return x - y;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function csvDataset(text: string, file: string, opts: CsvOptions): Dataset {
  const records = parseCsv(text, file);
  if (records.length === 0) throw new DataError(`${file}: the file is empty`);
  const header = records[0].fields.map((h) => h.trim());
  const seen = new Set<string>();
  for (const h of header) {
    if (h === "") throw new DataError(`${file}: line 1: an empty column name`);
    if (seen.has(h)) throw new DataError(`${file}: line 1: column "${h}" appears twice`);
    seen.add(h);
  }
  const labelCol = header.indexOf(opts.label);
  if (labelCol < 0) throw new DataError(`${file}: no column named "${opts.label}" (columns: ${header.join(", ")})`);
  const featureCols = header.map((_, i) => i).filter((i) => i !== labelCol);
  if (featureCols.length === 0) throw new DataError(`${file}: no feature columns besides "${opts.label}"`);
  const rows = records.length - 1;
  if (rows < 2) throw new DataError(`${file}: needs at least two data rows, found ${rows}`);

  const d = featureCols.length;
  const x = new Float32Array(rows * d);
  const raw = new Float64Array(rows * d);
  const labelText: string[] = new Array(rows);
  for (let r = 0; r < rows; r++) {
    const { fields, line } = records[r + 1];
    if (fields.length !== header.length) throw new DataError(`${file}: line ${line}: expected ${header.length} columns, found ${fields.length}`);
    featureCols.forEach((c, j) => {
      const s = fields[c].trim();
      const v = s === "" ? NaN : Number(s);
      if (!Number.isFinite(v)) throw new DataError(`${file}: line ${line}, column "${header[c]}": ${s === "" ? "missing value" : `"${s}" is not a finite number`}`);
      raw[r * d + j] = v;
    });
    const lab = fields[labelCol].trim();
    if (lab === "") throw new DataError(`${file}: line ${line}, column "${opts.label}": missing value`);
    if (opts.kind === "regression" && !Number.isFinite(Number(lab))) throw new DataError(`${file}: line ${line}, column "${opts.label}": "${lab}" is not a finite number`);
    labelText[r] = lab;
  }

  // seeded shuffle, then the last testFraction of the rows is the test split
  const order = Int32Array.from({ length: rows }, (_, i) => i);
  const u = new Float64Array(rows);
  fillUniform(u, { seed: opts.seed, stream: Stream.data, iteration: 0, member: 0 });
  for (let i = rows - 1; i > 0; i--) {
    const j = Math.floor(u[i] * (i + 1));
    const t = order[i]; order[i] = order[j]; order[j] = t;
  }
  const nTest = Math.round(rows * opts.testFraction);
  const nTrain = rows - nTest;
  if (nTrain < 1) throw new DataError(`${file}: testFraction ${opts.testFraction} leaves no training rows`);

  const mean = new Float64Array(d), scale = new Float64Array(d).fill(1);
  if (opts.standardize) {
    for (let i = 0; i < nTrain; i++) for (let j = 0; j < d; j++) mean[j] += raw[order[i] * d + j];
    for (let j = 0; j < d; j++) mean[j] /= nTrain;
    const v = new Float64Array(d);
    for (let i = 0; i < nTrain; i++) for (let j = 0; j < d; j++) { const e = raw[order[i] * d + j] - mean[j]; v[j] += e * e; }
    for (let j = 0; j < d; j++) { const sd = Math.sqrt(v[j] / nTrain); scale[j] = sd > 0 ? 1 / sd : 1; }
  }
  for (let i = 0; i < rows; i++) {
    const r = order[i];
    for (let j = 0; j < d; j++) x[i * d + j] = (raw[r * d + j] - mean[j]) * scale[j];
  }

  if (opts.kind === "classification") {
    const classes = [...new Set(labelText)].sort(compareLabels);
    if (classes.length < 2) throw new DataError(`${file}: column "${opts.label}" has only one class (${classes[0]})`);
    const index = new Map(classes.map((c, i) => [c, i]));
    const labels = Int32Array.from(order, (r) => index.get(labelText[r])!);
    return {
      kind: "classification", features: d, outputs: classes.length, names: classes,
      train: { x: x.subarray(0, nTrain * d), labels: labels.subarray(0, nTrain), rows: nTrain },
      test: { x: x.subarray(nTrain * d), labels: labels.subarray(nTrain), rows: nTest },
    };
  }
  const targets = Float32Array.from(order, (r) => Number(labelText[r]));
  return {
    kind: "regression", features: d, outputs: 1, names: [opts.label],
    train: { x: x.subarray(0, nTrain * d), targets: targets.subarray(0, nTrain), rows: nTrain },
    test: { x: x.subarray(nTrain * d), targets: targets.subarray(nTrain), rows: nTest },
  };
}
