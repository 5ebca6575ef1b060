// CSV → Dataset: a header row names the columns; `label` is the class (classification) or the
// target (regression); every other column is a numeric feature (plain decimal notation). Rows are
// split train/test by a seeded shuffle (split.ts), and features are standardized with training
// statistics only. Errors name the file, the line and the column. CsvColumns checks the header
// and each row; the whole-text reader here and the streaming one (csvIngest.ts) both use it.

import { cellNumber, parseCsv, type CsvRecord } from "./csvRecords.ts";
import { DataError } from "./errors.ts";
import { checkClassCount, sortClassNames, splitTable, type Table } from "./split.ts";
import type { Dataset } from "./types.ts";

export { parseCsv } from "./csvRecords.ts";

export interface CsvOptions {
  label: string;
  kind: "classification" | "regression";
  standardize: boolean;
  testFraction: number;
  seed: number;
}

/** A CSV's columns, from its header: the features and the label, and the checks of every row. */
export class CsvColumns {
  readonly names: string[];
  readonly featureCols: number[];
  readonly labelCol: number;
  readonly columns: { features: string[]; label: string };

  constructor(
    header: CsvRecord,
    private readonly file: string,
    private readonly opts: Pick<CsvOptions, "label" | "kind">,
  ) {
    this.names = header.fields.map((h) => h.trim());
    const seen = new Set<string>();
    for (const h of this.names) {
      if (h === "") throw new DataError(`${file}: line 1: an empty column name`);
      if (seen.has(h)) throw new DataError(`${file}: line 1: column "${h}" appears twice`);
      seen.add(h);
    }
    this.labelCol = this.names.indexOf(opts.label);
    if (this.labelCol < 0)
      throw new DataError(
        `${file}: no column named "${opts.label}" (columns: ` +
          `${this.names.slice(0, 20).join(", ")}${this.names.length > 20 ? ", …" : ""})`,
      );
    this.featureCols = this.names.map((_, i) => i).filter((i) => i !== this.labelCol);
    if (this.featureCols.length === 0) throw new DataError(`${file}: no feature columns besides "${opts.label}"`);
    this.columns = { features: this.featureCols.map((c) => this.names[c]), label: opts.label };
  }

  get features(): number {
    return this.featureCols.length;
  }

  /** Checks a data row, writes its features into `x` (at `offset`), and answers its label's text. */
  row(rec: CsvRecord, x: Float64Array, offset: number): string {
    const { fields, line } = rec;
    if (fields.length !== this.names.length)
      throw new DataError(`${this.file}: line ${line}: expected ${this.names.length} columns, found ${fields.length}`);
    const cols = this.featureCols;
    for (let j = 0; j < cols.length; j++) {
      const v = cellNumber(fields[cols[j]]);
      if (typeof v === "string")
        throw new DataError(`${this.file}: line ${line}, column "${this.names[cols[j]]}": ${v}`);
      x[offset + j] = v;
    }
    const lab = fields[this.labelCol].trim();
    if (lab === "") throw new DataError(`${this.file}: line ${line}, column "${this.opts.label}": missing value`);
    if (this.opts.kind === "regression") {
      const v = cellNumber(lab);
      if (typeof v === "string") throw new DataError(`${this.file}: line ${line}, column "${this.opts.label}": ${v}`);
    }
    return lab;
  }

  /** The sorted class names of a classification's labels, refusing one class or a continuous column. */
  classNames(labels: Iterable<string>, rows: number): string[] {
    const names = sortClassNames(labels);
    if (names.length < 2)
      throw new DataError(`${this.file}: column "${this.opts.label}" has only one class (${names[0]})`);
    checkClassCount(names.length, rows, this.file, this.opts.label);
    return names;
  }
}

/** A CSV's rows as a table (`test`: a test file, whose classes may be fewer than the training file's). */
function csvTable(text: string, file: string, opts: CsvOptions, test: boolean): Table {
  const records = parseCsv(text, file);
  if (records.length === 0) throw new DataError(`${file}: the file is empty`);
  const cols = new CsvColumns(records[0], file, opts);
  const rows = records.length - 1;
  if (rows < (test ? 1 : 2))
    throw new DataError(`${file}: needs at least ${test ? "one data row" : "two data rows"}, found ${rows}`);
  const d = cols.features;
  const raw = new Float64Array(rows * d);
  const labelText: string[] = new Array(rows);
  for (let r = 0; r < rows; r++) labelText[r] = cols.row(records[r + 1], raw, r * d);
  const base = { raw, rows, features: d, columns: cols.columns };
  if (opts.kind === "classification") {
    const names = test ? sortClassNames(labelText) : cols.classNames(labelText, rows);
    const lookup = new Map(names.map((c, i) => [c, i]));
    return { ...base, labels: { index: Int32Array.from(labelText, (l) => lookup.get(l)!), names } };
  }
  return { ...base, targets: { values: Float64Array.from(labelText, Number), names: [opts.label] } };
}

/**
 * The dataset of a CSV file and, optionally, a test file with the same columns (the fixed test split).
 *
 * @example
 * ```ts
 * const ds = csvDataset(text, "train.csv", { label: "y", kind: "classification", standardize: true,
 *   testFraction: 0.2, seed: 0 });
 * ```
 */
export function csvDataset(
  text: string,
  file: string,
  opts: CsvOptions,
  test?: { text: string; file: string },
): Dataset {
  const table = csvTable(text, file, opts, false);
  if (!test) return splitTable(table, opts, file);
  const testTable = csvTable(test.text, test.file, opts, true);
  const [a, b] = [table.columns!.features, testTable.columns!.features];
  if (a.length !== b.length || a.some((c, i) => c !== b[i]))
    throw new DataError(
      `${test.file}: its feature columns (${b.join(", ")}) are not the training file's (${a.join(", ")}), in order`,
    );
  return splitTable(table, opts, file, { table: testTable, source: test.file });
}
