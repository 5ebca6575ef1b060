// The streaming CSV reader (shared/data/csvIngest.ts) against the whole-text one (csv.ts): the
// same records whatever the pieces the bytes arrive in (a UTF-8 character or a CRLF cut in two),
// and a sharded dataset that decodes to csvDataset's, bit for bit, for classification and
// regression, in one shard or many; bad input refused with the same messages, and no temporary
// file left either way.
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { csvDataset } from "../../shared/data/csv.ts";
import { CsvIngest } from "../../shared/data/csvIngest.ts";
import { CsvRecords, parseCsv } from "../../shared/data/csvRecords.ts";
import { decodeShards } from "../../shared/data/shards.ts";

const pieces = (bytes: Uint8Array, cuts: number[]) => {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of [...at, bytes.length]) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  return out;
};

async function ingest(text: string, opts: Parameters<typeof csvDataset>[2], cuts: number[], shardBytes?: number) {
  const tmp = mkdtempSync(join(tmpdir(), "ingest-"));
  const files = new Map<string, Uint8Array>();
  const ing = new CsvIngest("t.csv", { ...opts, shardBytes, tmpDir: tmp });
  try {
    for (const p of pieces(new TextEncoder().encode(text), cuts)) ing.push(p);
    const manifest = await ing.finish(async (path, bytes) => {
      files.set(path, bytes);
    });
    return { manifest, dataset: await decodeShards(manifest, async (p) => files.get(p)!, "t"), left: readdirSync(tmp) };
  } catch (e) {
    ing.close();
    expect(readdirSync(tmp)).toEqual([]);
    throw e;
  }
}

const table = (rows: number, seed: number, regression = false) => {
  let s = seed;
  const r = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const lines = ['a,"b, quoted",y'];
  for (let i = 0; i < rows; i++)
    lines.push(
      `${(r() * 10 - 5).toFixed(3)},${r().toExponential(4)},` +
        (regression ? (r() * 3).toFixed(5) : ["cat", "dög", "ému"][Math.floor(r() * 3)]),
    );
  return lines.join(Math.floor(r() * 2) ? "\r\n" : "\n");
};

describe("the streaming CSV reader", () => {
  it("reads the same records as the whole text, wherever the pieces are cut", () => {
    fc.assert(
      fc.property(fc.array(fc.nat(400), { maxLength: 12 }), fc.integer({ min: 1, max: 1000 }), (cuts, seed) => {
        const text = `${table(20, seed)}\n"1\n""2""",x,"y,z"\r\n`;
        const r = new CsvRecords("t.csv");
        const got = [];
        const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        let prev = 0;
        for (const c of [...at, text.length]) {
          got.push(...r.push(text.slice(prev, c)));
          prev = c;
        }
        got.push(...r.end());
        expect(got).toEqual(parseCsv(text, "t.csv"));
      }),
      { numRuns: 200 },
    );
  });

  it("gives csvDataset's dataset, bit for bit, in one shard or many", async () => {
    for (const regression of [false, true]) {
      const text = table(500, regression ? 7 : 3, regression);
      const opts = {
        label: "y",
        kind: regression ? ("regression" as const) : ("classification" as const),
        standardize: true,
        testFraction: 0.2,
        seed: 11,
      };
      const want = csvDataset(text, "t.csv", opts);
      for (const [cuts, shardBytes] of [
        [[], undefined],
        [[1, 17, 300, 301, 2000], 1000],
      ] as [number[], number | undefined][]) {
        const { manifest, dataset, left } = await ingest(text, opts, cuts, shardBytes);
        expect(left).toEqual([]);
        expect(dataset.train.x).toEqual(want.train.x);
        expect(dataset.test.x).toEqual(want.test.x);
        expect(regression ? dataset.train.targets : dataset.train.labels).toEqual(
          regression ? want.train.targets : want.train.labels,
        );
        expect(regression ? dataset.test.targets : dataset.test.labels).toEqual(
          regression ? want.test.targets : want.test.labels,
        );
        expect([dataset.names, dataset.columns, dataset.standardization]).toEqual([
          want.names,
          want.columns,
          want.standardization,
        ]);
        expect(manifest.splits.train.shards.length).toBe(shardBytes ? Math.ceil((400 * 2 * 4) / 1000) : 1);
      }
    }
  });

  it("refuses what csvDataset refuses, with its messages, and leaves no temporary file", async () => {
    const opts = { label: "y", kind: "classification" as const, standardize: true, testFraction: 0.2, seed: 1 };
    for (const text of [
      "a,b,y\n1,2,cat\n0x10,2,dog\n",
      "a,a,y\n1,2,cat\n",
      "a,b,y\n1,2,cat\n",
      "",
      "a,b,y\n1,2,cat\n3,4,cat\n",
    ]) {
      const whole = (() => {
        try {
          csvDataset(text, "t.csv", opts);
          return "ok";
        } catch (e) {
          return (e as Error).message;
        }
      })();
      await expect(ingest(text, opts, [5])).rejects.toThrow(whole);
    }
    const bad = new Uint8Array([0x61, 0x2c, 0x79, 0x0a, 0xff, 0xfe, 0x0a]);
    const ing = new CsvIngest("t.csv", { ...opts, tmpDir: mkdtempSync(join(tmpdir(), "ingest-")) });
    expect(() => ing.push(bad)).toThrow(/not UTF-8 text/);
    ing.close();
  });
});
