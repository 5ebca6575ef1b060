// CSV datasets: parsing, the seeded split, training-only standardization, and errors that name
// the file, line and column.
import { describe, expect, it } from "vitest";
import { csvDataset, parseCsv } from "../../shared/data/csv.ts";
import { DataError } from "../../shared/data/errors.ts";
import { batchIndices } from "../../shared/problems/network.ts";

const opts = { label: "y", kind: "classification" as const, standardize: true, testFraction: 0.25, seed: 3 };

function table(rows: number): string {
  const lines = ["a,b,y"];
  for (let i = 0; i < rows; i++) lines.push(`${i},${2 * i + 1},${i % 3 === 0 ? "cat" : "dog"}`);
  return lines.join("\n") + "\n";
}

describe("parseCsv", () => {
  it("handles quotes, embedded commas and newlines, CRLF and a missing final newline", () => {
    const recs = parseCsv('a,"b, c",d\r\n1,"say ""hi""\nthere",3\r\n4,5,6', "f.csv");
    expect(recs.map((r) => r.fields)).toEqual([
      ["a", "b, c", "d"],
      ["1", 'say "hi"\nthere', "3"],
      ["4", "5", "6"],
    ]);
    expect(recs.map((r) => r.line)).toEqual([1, 2, 4]);
  });
  it("rejects an unterminated quote", () => {
    expect(() => parseCsv('a,b\n1,"oops\n', "f.csv")).toThrow(/f\.csv: line 2: unterminated/);
  });
});

describe("csvDataset", () => {
  const ds = csvDataset(table(40), "t.csv", opts);

  it("splits by the test fraction with a seeded shuffle and maps classes in sorted order", () => {
    expect(ds.train.rows).toBe(30);
    expect(ds.test.rows).toBe(10);
    expect(ds.names).toEqual(["cat", "dog"]);
    expect(ds.features).toBe(2);
    const again = csvDataset(table(40), "t.csv", opts);
    expect(again.test.x).toEqual(ds.test.x);
    expect(csvDataset(table(40), "t.csv", { ...opts, seed: 4 }).test.x).not.toEqual(ds.test.x);
  });

  it("refuses a continuous label column for classification, naming the column and suggesting regression", () => {
    const lines = ["a,price"];
    for (let i = 0; i < 800; i++) lines.push(`${i % 7},${(i * 1.37).toFixed(2)}`);
    expect(() => csvDataset(lines.join("\n"), "houses.csv", { ...opts, label: "price" })).toThrow(
      /houses\.csv: column "price" has 800 distinct values in 800 rows.*problem\.type "regression"/,
    );
    // the same column as a regression target is fine, and ten classes in 800 rows are classes
    expect(csvDataset(lines.join("\n"), "houses.csv", { ...opts, label: "price", kind: "regression" }).train.rows).toBe(
      600,
    );
    expect(
      csvDataset(lines.map((l, i) => (i === 0 ? l : `${l.split(",")[1]},${i % 10}`)).join("\n"), "d.csv", {
        ...opts,
        label: "price",
      }).names,
    ).toHaveLength(10);
  });

  it("standardizes with training statistics only", () => {
    for (let j = 0; j < 2; j++) {
      let s = 0,
        s2 = 0;
      for (let i = 0; i < 30; i++) {
        const v = ds.train.x[i * 2 + j];
        s += v;
        s2 += v * v;
      }
      expect(s / 30).toBeCloseTo(0, 5);
      expect(s2 / 30).toBeCloseTo(1, 5);
    }
    // test rows are scaled with the training mean and sd (same shuffle, so rows line up)
    const raw = csvDataset(table(40), "t.csv", { ...opts, standardize: false });
    for (let j = 0; j < 2; j++) {
      let s = 0,
        s2 = 0;
      for (let i = 0; i < 30; i++) s += raw.train.x[i * 2 + j];
      const mean = s / 30;
      for (let i = 0; i < 30; i++) s2 += (raw.train.x[i * 2 + j] - mean) ** 2;
      const sd = Math.sqrt(s2 / 30);
      for (let i = 0; i < 10; i++) expect(ds.test.x[i * 2 + j]).toBeCloseTo((raw.test.x[i * 2 + j] - mean) / sd, 5);
    }
  });

  it("keeps labels with their rows", () => {
    // b = 2a + 1 exactly, and the class is "cat" iff a % 3 == 0: recover a from the standardized values
    const raw = csvDataset(table(40), "t.csv", { ...opts, standardize: false });
    for (const split of [raw.train, raw.test]) {
      for (let i = 0; i < split.rows; i++) {
        const a = split.x[i * 2],
          b = split.x[i * 2 + 1];
        expect(b).toBe(2 * a + 1);
        expect(split.labels![i]).toBe(a % 3 === 0 ? 0 : 1);
      }
    }
  });

  it("reads regression targets", () => {
    const r = csvDataset("x,t\n1,2.5\n2,4.5\n3,6.5\n4,8.5\n", "r.csv", {
      ...opts,
      label: "t",
      kind: "regression",
      standardize: false,
      testFraction: 0.25,
    });
    expect(r.kind).toBe("regression");
    expect(r.outputs).toBe(1);
    expect(r.train.rows + r.test.rows).toBe(4);
    const pairs = [...Array(3).keys()].map((i) => [r.train.x[i], r.train.targets![i]]);
    for (const [x, t] of pairs) expect(t).toBeCloseTo(2 * x + 0.5, 5);
  });

  it.each([
    ["a,b,y\n1,2,cat\n1,x,dog\n", /t\.csv: line 3, column "b": "x" is not a number in decimal notation/],
    // JavaScript's Number() reads these; a CSV cell is decimal only
    ["a,b,y\n1,2,cat\n0x10,2,dog\n", /line 3, column "a": "0x10" is not a number in decimal notation/],
    ["a,b,y\n1,2,cat\n0b11,2,dog\n", /line 3, column "a": "0b11" is not a number in decimal notation/],
    ["a,b,y\n1,2,cat\n+5,2,dog\n", /line 3, column "a": "\+5" is not a number in decimal notation/],
    ["a,b,y\n1,2,cat\n1e309,2,dog\n", /line 3, column "a": "1e309" is out of range for a 64-bit number/],
    ["a,b,y\n1,2,cat\nInfinity,2,dog\n", /line 3, column "a": "Infinity" is not a number in decimal notation/],
    ["a,b,y\n1,2,cat\n1,,dog\n", /line 3, column "b": missing value/],
    ["a,b,y\n1,2,cat\n1,2\n", /line 3: expected 3 columns, found 2/],
    ["a,b,z\n1,2,cat\n1,2,dog\n", /no column named "y"/],
    ["a,a,y\n1,2,cat\n", /column "a" appears twice/],
    ["a,b,y\n1,2,cat\n3,4,cat\n", /only one class/],
    ["", /the file is empty/],
    ["a,b,y\n1,2,cat\n3,4,\n", /line 3, column "y": missing value/],
  ])("reports %j clearly", (text, pattern) => {
    expect(() => csvDataset(text, "t.csv", { ...opts, testFraction: 0 })).toThrow(DataError);
    expect(() => csvDataset(text, "t.csv", { ...opts, testFraction: 0 })).toThrow(pattern);
  });
});

describe("mini-batches", () => {
  it("are distinct indices in range, seeded per iteration", () => {
    const out = new Int32Array(50),
      perm = new Int32Array(200);
    batchIndices(200, 50, 9, 3, out, perm);
    const a = Array.from(out);
    expect(new Set(a).size).toBe(50);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a)).toBeLessThan(200);
    batchIndices(200, 50, 9, 3, out, perm);
    expect(Array.from(out)).toEqual(a);
    batchIndices(200, 50, 9, 4, out, perm);
    expect(Array.from(out)).not.toEqual(a);
  });
});
