// CSV text → records, incrementally: RFC 4180 (quoted fields may hold commas, quotes "" and
// newlines), fed in pieces of any size, so a file or an upload is read as a stream. And the one
// rule for a numeric cell: plain decimal notation (an optional minus, digits, a point, an
// exponent); hexadecimal, binary, a leading "+", "Infinity" and out-of-range values are refused.

import { DataError } from "./errors.ts";

export interface CsvRecord {
  fields: string[];
  /** the line the record starts on, 1-based */
  line: number;
}

export class CsvRecords {
  private fields: string[] = [];
  private field = "";
  private line = 1;
  private start = 1;
  private quoted = false;
  private wasQuoted = false;
  /** a quote seen at the end of a piece inside a quoted field: "" or the field's end */
  private quoteAtEnd = false;
  /** a carriage return ending the last piece (its \n may open the next) */
  private crAtEnd = false;

  constructor(private readonly file: string) {}

  /** The records that `text` completes. */
  push(text: string): CsvRecord[] {
    const out: CsvRecord[] = [];
    let i = 0;
    if (this.crAtEnd) {
      this.crAtEnd = false;
      if (text[0] === "\n") i = 1;
    }
    if (this.quoteAtEnd) {
      this.quoteAtEnd = false;
      if (text[i] === '"') {
        this.field += '"';
        i++;
      } else this.quoted = false;
    }
    let plain = i; // start of a run of ordinary characters, appended in one piece
    for (; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      if (this.quoted) {
        if (ch === 34) {
          this.field += text.slice(plain, i);
          if (i + 1 === text.length) {
            this.quoteAtEnd = true;
            plain = i + 1;
            continue;
          }
          if (text.charCodeAt(i + 1) === 34) {
            this.field += '"';
            i++;
          } else this.quoted = false;
          plain = i + 1;
        } else if (ch === 10) this.line++;
        continue;
      }
      if (ch !== 34 && ch !== 44 && ch !== 10 && ch !== 13) continue;
      this.field += text.slice(plain, i);
      plain = i + 1;
      if (ch === 34) {
        if (this.field.trim() !== "")
          throw new DataError(`${this.file}: line ${this.line}: a quote inside an unquoted field`);
        this.quoted = true;
        this.wasQuoted = true;
        this.field = "";
      } else if (ch === 44) {
        this.fields.push(this.field);
        this.field = "";
        this.wasQuoted = false;
      } else {
        if (ch === 13) {
          if (i + 1 === text.length) this.crAtEnd = true;
          else if (text.charCodeAt(i + 1) === 10) {
            i++;
            plain = i + 1;
          }
        }
        this.endRecord(out);
      }
    }
    this.field += text.slice(plain);
    return out;
  }

  /** The last record, if the text did not end with a newline. */
  end(): CsvRecord[] {
    if (this.quoted && !this.quoteAtEnd)
      throw new DataError(`${this.file}: line ${this.start}: unterminated quoted field`);
    const out: CsvRecord[] = [];
    this.endRecord(out);
    return out;
  }

  private endRecord(out: CsvRecord[]): void {
    this.fields.push(this.field);
    if (!(this.fields.length === 1 && this.fields[0].trim() === "" && !this.wasQuoted))
      out.push({ fields: this.fields, line: this.start });
    this.fields = [];
    this.field = "";
    this.wasQuoted = false;
    this.quoted = false;
    this.line++;
    this.start = this.line;
  }
}

/** Every record of a whole text. */
export function parseCsv(text: string, file: string): CsvRecord[] {
  const r = new CsvRecords(file);
  return [...r.push(text), ...r.end()];
}

const DECIMAL = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A cell as a finite number in plain decimal notation, or why it is not one. */
export function cellNumber(cell: string): number | string {
  const s = cell.trim();
  if (s === "") return "missing value";
  if (!DECIMAL.test(s)) return `"${s.slice(0, 40)}" is not a number in decimal notation`;
  const v = Number(s);
  if (!Number.isFinite(v)) return `"${s.slice(0, 40)}" is out of range for a 64-bit number`;
  return v;
}
