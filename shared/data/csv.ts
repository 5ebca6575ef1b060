// CSV → Dataset: a header row names the columns; `label` is the class (classification) or the
// target (regression); every other column is a numeric feature. Rows are split train/test by a
// seeded shuffle (split.ts), and features are standardized with training statistics only. Errors name the
// file, the line and the column. Pure: text in, Dataset out.

import { DataError } from "./errors.ts";
import { checkClassCount, sortClassNames, splitTable } from "./split.ts";
import type { Dataset } from "./types.ts";


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
  const columns = { features: featureCols.map((c) => header[c]), label: opts.label };
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

  if (opts.kind === "classification") {
    const names = sortClassNames(labelText);
    if (names.length < 2) throw new DataError(`${file}: column "${opts.label}" has only one class (${names[0]})`);
    checkClassCount(names.length, rows, file, opts.label);
    const lookup = new Map(names.map((c, i) => [c, i]));
    return splitTable({ raw, rows, features: d, labels: { index: Int32Array.from(labelText, (l) => lookup.get(l)!), names }, columns }, opts, file);
  }
  return splitTable({ raw, rows, features: d, targets: { values: Float64Array.from(labelText, Number), names: [opts.label] }, columns }, opts, file);
}
