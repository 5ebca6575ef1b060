// The sharded dataset format: exact round trips, integrity checks that name the bad file, atomic
// writes, and the CLI path `enkf data` → `source: "shards"`.
import { runCli } from "../support/cli.ts";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { csvDataset } from "../../shared/data/csv.ts";
import { DataError } from "../../shared/data/errors.ts";
import { readShardDirectory, writeShardDirectory } from "../../shared/data/shardDirectory.ts";
import { encodeShards, shardRanges } from "../../shared/data/shards.ts";
import type { Dataset } from "../../shared/data/types.ts";

const root = join(import.meta.dirname, "..", "..");
const tmp = mkdtempSync(join(tmpdir(), "enkf-shards-"));

function csv(rows: number): string {
  const lines = ["u,v,w,label"];
  for (let i = 0; i < rows; i++)
    lines.push(`${Math.sin(i)},${Math.cos(3 * i)},${(i * 7) % 11},${["x", "y", "z"][i % 3]}`);
  return lines.join("\n") + "\n";
}
const classification = csvDataset(csv(103), "c.csv", {
  label: "label",
  kind: "classification",
  standardize: true,
  testFraction: 0.2,
  seed: 1,
});
const regression = csvDataset(
  csv(50).replace(/,[xyz]$/gm, (m) => `,${"xyz".indexOf(m[1]) * 1.5}`),
  "r.csv",
  { label: "label", kind: "regression", standardize: false, testFraction: 0.2, seed: 1 },
);

function expectSame(a: Dataset, b: Dataset): void {
  expect([b.kind, b.features, b.outputs, b.names]).toEqual([a.kind, a.features, a.outputs, a.names]);
  for (const s of ["train", "test"] as const) {
    expect(b[s].rows).toBe(a[s].rows);
    expect(b[s].x).toEqual(a[s].x);
    if (a[s].labels) expect(b[s].labels).toEqual(a[s].labels);
    else expect(b[s].targets).toEqual(a[s].targets);
  }
}

describe("sharded format", () => {
  it("cuts splits into contiguous near-equal shards", () => {
    expect(shardRanges(10, 3)).toEqual([
      [0, 3],
      [3, 6],
      [6, 10],
    ]);
    expect(shardRanges(2, 5)).toEqual([
      [0, 1],
      [1, 2],
    ]);
  });

  it.each([
    ["classification", classification],
    ["regression", regression],
  ] as const)("round-trips a %s dataset exactly, with a sha256 per file", async (_k, ds) => {
    const dir = join(tmp, `rt-${ds.kind}`);
    const enc = encodeShards(ds, 4);
    await writeShardDirectory(dir, enc);
    const files = readdirSync(dir).sort();
    expect(files).toContain("manifest.json");
    expect(enc.manifest.splits.train.shards).toHaveLength(4);
    expect(enc.manifest.splits.train.shards.reduce((s, x) => s + x.rows, 0)).toBe(ds.train.rows);
    // every listed file exists with the listed hash, computed here from the bytes on disk
    for (const split of Object.values(enc.manifest.splits)) {
      for (const shard of split.shards) {
        for (const f of [shard.x, shard.y])
          expect(
            createHash("sha256")
              .update(readFileSync(join(dir, f.path)))
              .digest("hex"),
          ).toBe(f.sha256);
      }
    }
    // the first train shard's features are the first rows of the split, float32 little-endian
    const first = readFileSync(join(dir, enc.manifest.splits.train.shards[0].x.path));
    expect(new Float32Array(first.buffer, first.byteOffset, first.byteLength / 4)).toEqual(
      ds.train.x.subarray(0, enc.manifest.splits.train.shards[0].rows * ds.features),
    );
    expectSame(ds, await readShardDirectory(dir));
  });

  it("names the file when a shard is corrupt, truncated, missing or out of range", async () => {
    const dir = join(tmp, "corrupt");
    const enc = encodeShards(classification, 2);
    await writeShardDirectory(dir, enc);
    const shard = enc.manifest.splits.train.shards[1];
    const xPath = join(dir, shard.x.path);
    const good = readFileSync(xPath);
    const flipped = Buffer.from(good);
    flipped[17] ^= 1;
    writeFileSync(xPath, flipped);
    await expect(readShardDirectory(dir)).rejects.toThrow(new RegExp(`${shard.x.path}: sha256 mismatch`));
    writeFileSync(xPath, good.subarray(0, good.length - 4));
    await expect(readShardDirectory(dir)).rejects.toThrow(
      new RegExp(`${shard.x.path}: ${good.length - 4} bytes, expected ${good.length}`),
    );
    rmSync(xPath);
    await expect(readShardDirectory(dir)).rejects.toThrow(/cannot read .*train-00001\.x\.f32: no such file/);
    writeFileSync(xPath, good);
    // a label outside the classes, with a manifest hash that matches it
    const yPath = join(dir, shard.y.path);
    const labels = new Int32Array(Uint8Array.from(readFileSync(yPath)).buffer);
    labels[3] = 7;
    const bytes = Buffer.from(labels.buffer);
    writeFileSync(yPath, bytes);
    const m = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
    m.splits.train.shards[1].y.sha256 = createHash("sha256").update(bytes).digest("hex");
    writeFileSync(join(dir, "manifest.json"), JSON.stringify(m));
    await expect(readShardDirectory(dir)).rejects.toThrow(
      /train-00001\.y\.i32: row 3: label 7 is not a class in \[0, 3\)/,
    );
    writeFileSync(join(dir, "manifest.json"), JSON.stringify({ ...m, version: 2 }));
    await expect(readShardDirectory(dir)).rejects.toThrow(/manifest\.json: not a dataset manifest: version/);
  });

  it(
    "writes atomically: no directory and no leftovers when a write fails, and never over an " + "existing one",
    async () => {
      const dir = join(tmp, "atomic");
      const enc = encodeShards(classification, 3);
      const broken = { ...enc, files: [...enc.files, { path: "bad", bytes: 42 as unknown as Uint8Array }] };
      await expect(writeShardDirectory(dir, broken)).rejects.toThrow();
      expect(existsSync(dir)).toBe(false);
      expect(readdirSync(tmp).filter((f) => f.includes("partial"))).toEqual([]);
      await writeShardDirectory(dir, enc);
      await expect(writeShardDirectory(dir, enc)).rejects.toThrow(DataError);
      await writeShardDirectory(dir, enc, true);
      expectSame(classification, await readShardDirectory(dir));
    },
  );
});

describe("enkf data and the shards source", () => {
  it("training from the shards gives the same θ, bit for bit, as training from the CSV they came from", () => {
    const dir = join(tmp, "cli");
    spawnSync("mkdir", ["-p", dir]);
    writeFileSync(join(dir, "d.csv"), csv(120));
    const base = {
      problem: { type: "classification", model: { type: "mlp", hidden: [5] } },
      optimizer: { method: "modified-enkf", ensembleSize: 6, batchSize: 40 },
      stop: { maxIterations: 15 },
    };
    const fromCsv = {
      name: "from-csv",
      ...base,
      problem: { ...base.problem, data: { source: "csv", path: "d.csv", label: "label" } },
    };
    const fromShards = {
      name: "from-shards",
      ...base,
      problem: { ...base.problem, data: { source: "shards", path: "d-shards" } },
    };
    writeFileSync(join(dir, "csv.json"), JSON.stringify(fromCsv));
    writeFileSync(join(dir, "shards.json"), JSON.stringify(fromShards));
    const run = (...args: string[]) => runCli(args, { cwd: dir });
    const conv = run("data", "csv.json", "--out", "d-shards", "--shards", "3");
    expect(conv.code, conv.stderr).toBe(0);
    // 120 rows: 24 test, and 10% of the other 96 held out for validation
    expect(conv.stdout).toMatch(/86 train rows in 3 shards, 10 validation rows, 24 test rows/);
    expect(run("run", "csv.json", "--out", "a", "--quiet").code).toBe(0);
    expect(run("run", "shards.json", "--out", "b", "--quiet").code).toBe(0);
    expect(Buffer.compare(readFileSync(join(dir, "a", "theta.npy")), readFileSync(join(dir, "b", "theta.npy")))).toBe(
      0,
    );
    const again = run("data", "csv.json", "--out", "d-shards");
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists.*--force/);
    expect(run("data", "csv.json", "--shards", "0").stderr).toMatch(/--shards must be an integer/);
  });
});
