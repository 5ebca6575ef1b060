// .npy decoding and the npy data source, on files written by NumPy itself (an independent writer).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeNpy, encodeNpyFloat64, decodeNpyFloat64 } from "../../shared/formats/npy.ts";
import { npyDataset } from "../../shared/data/npy.ts";
import { DataError } from "../../shared/data/errors.ts";
import { loadDataset } from "../../shared/data/load.ts";

const tmp = mkdtempSync(join(tmpdir(), "enkf-npy-"));
const numpy = spawnSync("python3", ["-c", "import numpy"]).status === 0;
const py = (code: string) => {
  const r = spawnSync("python3", ["-c", `import numpy as np, os\nos.chdir(${JSON.stringify(tmp)})\n${code}`], {
    encoding: "utf8",
  });
  expect(r.status, r.stderr).toBe(0);
};
const read = (f: string) => decodeNpy(readFileSync(join(tmp, f)), f);

describe("decodeNpy", () => {
  it("round-trips our float64 writer", () => {
    const v = Float64Array.of(1.5, -2, Math.PI, 1e-300);
    expect(decodeNpyFloat64(encodeNpyFloat64(v))).toEqual(v);
  });

  it.runIf(numpy)("reads NumPy's dtypes and shapes", () => {
    py(`
a = np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 8
np.save('f4.npy', a)
np.save('f8.npy', np.array([0.1, -2.5, 1e300]))
np.save('i8.npy', np.array([-3, 0, 2**40], dtype=np.int64))
np.save('i4.npy', np.array([[1, -2], [3, 4]], dtype=np.int32))
np.save('u1.npy', np.array([0, 255, 7], dtype=np.uint8))
np.save('b1.npy', np.array([True, False, True]))
np.save('fortran.npy', np.asfortranarray(np.ones((2, 3))))
np.save('big.npy', np.array([1.0, 2.0], dtype='>f8'))
np.save('scalar.npy', np.float64(4.0))
`);
    const f4 = read("f4.npy");
    expect(f4.shape).toEqual([2, 3, 4]);
    expect(Array.from(f4.data as Float32Array)).toEqual(Array.from({ length: 24 }, (_, i) => i / 8));
    expect(Array.from(read("f8.npy").data as Float64Array)).toEqual([0.1, -2.5, 1e300]);
    expect(Array.from(read("i8.npy").data as BigInt64Array, Number)).toEqual([-3, 0, 2 ** 40]);
    expect(read("i4.npy").shape).toEqual([2, 2]);
    expect(Array.from(read("i4.npy").data as Int32Array)).toEqual([1, -2, 3, 4]);
    expect(Array.from(read("u1.npy").data as Uint8Array)).toEqual([0, 255, 7]);
    expect(Array.from(read("b1.npy").data as Uint8Array)).toEqual([1, 0, 1]);
    expect(read("scalar.npy").shape).toEqual([]);
    expect(() => read("fortran.npy")).toThrow(/Fortran/);
    expect(() => read("big.npy")).toThrow(/unsupported dtype >f8/);
  });

  it("rejects other files and truncated payloads", () => {
    expect(() => decodeNpy(new TextEncoder().encode("a,b\n1,2\n"), "x.csv")).toThrow(/x\.csv: not a \.npy file/);
    const good = encodeNpyFloat64(Float64Array.of(1, 2, 3));
    expect(() => decodeNpy(good.subarray(0, good.length - 8), "cut.npy")).toThrow(
      /cut\.npy: payload has 16 bytes, expected 24/,
    );
  });
});

describe.runIf(numpy)("npy data source", () => {
  it("flattens image-shaped features and maps integer classes in numeric order", async () => {
    py(`
rng = np.random.default_rng(0)
np.save('x.npy', rng.normal(size=(50, 2, 3)).astype(np.float32))
np.save('y.npy', np.array([3, 7, 11, 7, 3] * 10, dtype=np.int64))
np.save('t.npy', rng.normal(size=(50, 2)))
`);
    const ds = await loadDataset(
      {
        source: "npy",
        features: "x.npy",
        labels: "y.npy",
        standardize: false,
        testFraction: 0.2,
        seed: 0,
        validationFraction: 0,
      },
      "classification",
      tmp,
    );
    expect(ds.features).toBe(6);
    expect(ds.names).toEqual(["3", "7", "11"]);
    expect(ds.train.rows + ds.test.rows).toBe(50);
    expect(ds.test.rows).toBe(10);
    // every feature row still sits with its own label: rebuild the map row -> label from the files
    const x = read("x.npy").data as Float32Array,
      y = read("y.npy").data as BigInt64Array;
    const key = (a: ArrayLike<number>) => Array.from(a).join(",");
    const labelOf = new Map<string, number>();
    for (let r = 0; r < 50; r++) labelOf.set(key(x.subarray(r * 6, r * 6 + 6)), Number(y[r]));
    for (const split of [ds.train, ds.test]) {
      for (let i = 0; i < split.rows; i++)
        expect(ds.names[split.labels![i]]).toBe(String(labelOf.get(key(split.x.subarray(i * 6, i * 6 + 6)))));
    }
    const reg = await loadDataset(
      {
        source: "npy",
        features: "x.npy",
        labels: "t.npy",
        standardize: true,
        testFraction: 0.2,
        seed: 0,
        validationFraction: 0,
      },
      "regression",
      tmp,
    );
    expect(reg.outputs).toBe(2);
    expect(reg.train.targets).toHaveLength(40 * 2);
  });

  it("names the file and row of bad values and mismatched shapes", async () => {
    py(`
x = np.ones((4, 3)); x[2, 1] = np.nan
np.save('nan.npy', x)
np.save('y4.npy', np.array([0, 1, 0, 1]))
np.save('y5.npy', np.array([0, 1, 0, 1, 1]))
`);
    const opts = { standardize: false, testFraction: 0, seed: 0 };
    const files = { features: "nan.npy", labels: "y4.npy" };
    expect(() =>
      npyDataset({ features: read("nan.npy"), labels: read("y4.npy"), files }, undefined, "classification", opts),
    ).toThrow(/nan\.npy: row 2, feature 1: NaN is not a finite number/);
    expect(() =>
      npyDataset(
        { features: read("nan.npy"), labels: read("y5.npy"), files: { ...files, labels: "y5.npy" } },
        undefined,
        "classification",
        opts,
      ),
    ).toThrow(DataError);
    await expect(
      loadDataset(
        {
          source: "npy",
          features: "nope.npy",
          labels: "y4.npy",
          standardize: false,
          testFraction: 0,
          seed: 0,
          validationFraction: 0,
        },
        "classification",
        tmp,
      ),
    ).rejects.toThrow(/cannot read data file .*nope\.npy: no such file/);
    writeFileSync(join(tmp, "text.npy"), "not numpy");
    await expect(
      loadDataset(
        {
          source: "npy",
          features: "text.npy",
          labels: "y4.npy",
          standardize: false,
          testFraction: 0,
          seed: 0,
          validationFraction: 0,
        },
        "classification",
        tmp,
      ),
    ).rejects.toThrow(/text\.npy: not a \.npy file/);
  });
});
