// CSV bytes → the sharded format, as a stream, in memory bounded whatever the size: the text is
// read piece by piece (csvRecords.ts), each row checked (CsvColumns) and its features appended to
// a temporary file as float64; per row only its label stays in memory. At the end the rows are
// split and standardized exactly as csvDataset does (split.ts: the same shuffle, the statistics
// summed in the same order, rows read back from the file), and written as shards of at most
// `shardBytes` each through `put`. The result decodes to csvDataset's Dataset, bit for bit.
//
// Memory: a few MiB of buffers, 4 or 8 bytes per row (labels, the shuffle) and one shard.

import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CsvColumns, type CsvOptions } from "./csv.ts";
import { CsvRecords, type CsvRecord } from "./csvRecords.ts";
import { DataError } from "./errors.ts";
import type { DatasetManifest, ShardFile } from "./manifest.ts";
import { shardFile, shardName, shardRanges } from "./shards.ts";
import { splitOrder, trainingStatistics } from "./split.ts";

export type PutFile = (path: string, bytes: Uint8Array) => Promise<void>;

export interface IngestOptions extends CsvOptions {
  /** the largest shard file, in bytes (default 8 MiB) */
  shardBytes?: number;
  /** where the temporary file goes (default the system's) */
  tmpDir?: string;
  /** the columns the data must have (a named dataset's later versions); checked at the header */
  columns?: (columns: { features: string[]; label: string }) => void;
}

/** More distinct labels than this is no classification (and would hold every label in memory). */
export const MAX_CLASSES = 65_536;
const FLUSH_ROWS = 8192;

class Growing<T extends Int32Array | Float64Array> {
  length = 0;
  constructor(public data: T) {}
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new (this.data.constructor as new (n: number) => T)(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
}

export class CsvIngest {
  private readonly decoder = new TextDecoder("utf-8", { fatal: true });
  private readonly records: CsvRecords;
  private cols?: CsvColumns;
  private readonly dir: string;
  private readonly fd: number;
  private rows = 0;
  private pending?: Float64Array;
  private fill = 0;
  private readonly classes = new Map<string, number>();
  private readonly labels = new Growing(new Int32Array(1024));
  private readonly targets = new Growing(new Float64Array(1024));
  private closed = false;

  constructor(
    private readonly file: string,
    private readonly opts: IngestOptions,
  ) {
    this.records = new CsvRecords(file);
    this.dir = mkdtempSync(join(opts.tmpDir ?? tmpdir(), "enkf-ingest-"));
    this.fd = openSync(join(this.dir, "rows.f64"), "w+");
  }

  /** The next piece of the CSV's bytes. */
  push(bytes: Uint8Array): void {
    let text: string;
    try {
      text = this.decoder.decode(bytes, { stream: true });
    } catch {
      throw new DataError(`${this.file}: the CSV is not UTF-8 text`);
    }
    this.take(this.records.push(text));
  }

  private take(records: CsvRecord[]): void {
    for (const rec of records) {
      if (!this.cols) {
        this.cols = new CsvColumns(rec, this.file, this.opts);
        this.opts.columns?.(this.cols.columns);
        this.pending = new Float64Array(FLUSH_ROWS * this.cols.features);
        continue;
      }
      const d = this.cols.features;
      const label = this.cols.row(rec, this.pending!, this.fill * d);
      if (this.opts.kind === "regression") this.targets.push(Number(label));
      else {
        let c = this.classes.get(label);
        if (c === undefined) {
          if (this.classes.size >= MAX_CLASSES)
            throw new DataError(
              `${this.file}: column "${this.opts.label}" has more than ${MAX_CLASSES} distinct values; ` +
                `that looks like a continuous target, not class labels: use the kind "regression"`,
            );
          this.classes.set(label, (c = this.classes.size));
        }
        this.labels.push(c);
      }
      this.rows++;
      if (++this.fill === FLUSH_ROWS) this.flush();
    }
  }

  private flush(): void {
    if (!this.fill) return;
    const d = this.cols!.features;
    const p = this.pending!;
    writeSync(this.fd, new Uint8Array(p.buffer, 0, this.fill * d * 8));
    this.fill = 0;
  }

  /** Ends the CSV and writes the dataset's shards and its manifest's content; answers the manifest. */
  async finish(put: PutFile): Promise<DatasetManifest> {
    try {
      const tail = this.decoder.decode();
      this.take([...this.records.push(tail), ...this.records.end()]);
      if (!this.cols) throw new DataError(`${this.file}: the file is empty`);
      if (this.rows < 2) throw new DataError(`${this.file}: needs at least two data rows, found ${this.rows}`);
      this.flush();
      return await this.write(this.cols, put);
    } finally {
      this.close();
    }
  }

  /** Stops (a failed upload): the temporary file goes. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async write(cols: CsvColumns, put: PutFile): Promise<DatasetManifest> {
    const d = cols.features,
      n = this.rows,
      opts = this.opts;
    const classification = opts.kind === "classification";
    let names = [opts.label],
      remap = new Int32Array(0);
    if (classification) {
      names = cols.classNames(this.classes.keys(), n);
      const index = new Map(names.map((c, i) => [c, i]));
      remap = new Int32Array(this.classes.size);
      for (const [label, c] of this.classes) remap[c] = index.get(label)!;
    }
    const { order, train, test } = splitOrder(n, opts, this.file);
    const rowBytes = Buffer.alloc(d * 8);
    const rowView = new Float64Array(rowBytes.buffer, rowBytes.byteOffset, d);
    const read = (r: number, into: Float64Array) => {
      readSync(this.fd, rowBytes, 0, d * 8, r * d * 8);
      into.set(rowView);
    };
    const { mean, scale } = trainingStatistics(read, d, order, train, opts.standardize);
    const maxRows = Math.max(1, Math.floor((opts.shardBytes ?? 8 * 2 ** 20) / (4 * Math.max(d, 1))));
    const raw = new Float64Array(d);
    const split = async (name: "train" | "test", from: number, rows: number) => {
      const shards = [];
      for (const [i, [a, b]] of shardRanges(rows, Math.max(1, Math.ceil(rows / maxRows))).entries()) {
        const m = b - a;
        const x = new Float32Array(m * d);
        const y = classification ? new Int32Array(m) : new Float32Array(m);
        for (let k = 0; k < m; k++) {
          const r = order[from + a + k];
          read(r, raw);
          for (let j = 0; j < d; j++) x[k * d + j] = (raw[j] - mean[j]) * scale[j];
          y[k] = classification ? remap[this.labels.data[r]] : this.targets.data[r];
        }
        const id = shardName(name, i);
        const fx = shardFile(`${id}.x.f32`, x, [m, d]);
        const fy = shardFile(`${id}.y.${classification ? "i32" : "f32"}`, y, classification ? [m] : [m, 1]);
        await put(fx.entry.path, fx.bytes);
        await put(fy.entry.path, fy.bytes);
        shards.push({ rows: m, x: fx.entry as ShardFile, y: fy.entry as ShardFile });
      }
      return { rows, shards };
    };
    return {
      format: "enkf-dataset",
      version: 1,
      kind: opts.kind,
      features: d,
      outputs: classification ? names.length : 1,
      names,
      columns: cols.columns,
      ...(opts.standardize ? { standardization: { mean: Array.from(mean), scale: Array.from(scale) } } : {}),
      splits: { train: await split("train", 0, train), test: await split("test", train, test) },
    };
  }
}
