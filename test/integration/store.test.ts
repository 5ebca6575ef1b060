// The BlobStore contract, run against the local directory store and the S3 store on a real
// S3-compatible server process (s3rver on 127.0.0.1).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  getJson,
  IntegrityError,
  NotFoundError,
  putJson,
  StoreError,
  type BlobStore,
} from "../../shared/store/blobStore.ts";
import { localStore } from "../../shared/store/localStore.ts";
import { openStore } from "../../shared/store/openStore.ts";
import { s3ClientConfig, s3Store } from "../../shared/store/s3Store.ts";
import { startS3Server, type S3Server } from "../support/s3server.ts";

let server: S3Server;
let client: S3Client;
beforeAll(async () => {
  server = await startS3Server();
  client = new S3Client(s3ClientConfig({ endpoint: server.endpoint, credentials: server.credentials }));
});
afterAll(async () => {
  client?.destroy();
  await server?.stop();
});

/** bytes 0..n−1 of a fixed pseudo-random pattern */
function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 255;
  }
  return b;
}

type Make = () => { store: BlobStore; tamper: (key: string, bytes: Uint8Array) => Promise<void> };
const kinds: [string, Make][] = [
  [
    "local directory",
    () => {
      const dir = mkdtempSync(join(tmpdir(), "store-"));
      return {
        store: localStore(dir),
        tamper: async (key, bytes) => writeFileSync(join(dir, ...key.split("/")), bytes),
      };
    },
  ],
  [
    "S3 (s3rver)",
    () => {
      const prefix = `jobs/${Math.random().toString(36).slice(2)}/`;
      return {
        store: s3Store({ bucket: server.bucket, prefix, client }),
        // an object written around the store: the same key, other bytes, the old checksum
        tamper: async (key, bytes) => {
          await client.send(
            new PutObjectCommand({
              Bucket: server.bucket,
              Key: prefix + key,
              Body: bytes,
              Metadata: { sha256: "0".repeat(64) },
            }),
          );
        },
      };
    },
  ],
];

describe.each(kinds)("BlobStore: %s", (_name, make) => {
  it("round-trips bytes exactly, small and large (5 MiB, one request)", async () => {
    const { store } = make();
    for (const [key, bytes] of [
      ["a.bin", pattern(1, 1)],
      ["dir/sub/b.bin", pattern(5 * 2 ** 20 + 3, 2)],
      ["empty.bin", new Uint8Array(0)],
    ] as const) {
      await store.put(key, bytes);
      const back = await store.get(key);
      expect(back.length).toBe(bytes.length);
      expect(Buffer.from(back).equals(Buffer.from(bytes))).toBe(true);
    }
  });

  it("overwrites, lists by prefix in order, tells presence, deletes", async () => {
    const { store } = make();
    await store.put("state/iter-000002.json", pattern(10, 3));
    await store.put("state/iter-000001.json", pattern(10, 4));
    await store.put("partials/x.bin", pattern(10, 5));
    await store.put("state/iter-000001.json", pattern(7, 6));
    expect(await store.list("state/")).toEqual(["state/iter-000001.json", "state/iter-000002.json"]);
    expect(await store.list("")).toEqual(["partials/x.bin", "state/iter-000001.json", "state/iter-000002.json"]);
    expect(Array.from(await store.get("state/iter-000001.json"))).toEqual(Array.from(pattern(7, 6)));
    expect(await store.has("partials/x.bin")).toBe(true);
    await store.delete("partials/x.bin");
    await store.delete("partials/never-there.bin");
    expect(await store.has("partials/x.bin")).toBe(false);
    expect(await store.list("partials/")).toEqual([]);
    // many at once (S3: DeleteObjects), those absent included; a sibling store reaches the same objects
    for (let i = 0; i < 5; i++) await store.put(`rounds/${i}/p.bin`, pattern(4, i));
    await store.deleteMany([...(await store.list("rounds/")), "rounds/never-there.bin"]);
    expect(await store.list("")).toEqual(["state/iter-000001.json", "state/iter-000002.json"]);
    expect(await store.sibling("state/..").list("state/")).toEqual([
      "state/iter-000001.json",
      "state/iter-000002.json",
    ]);
  });

  it("says which object is missing", async () => {
    const { store } = make();
    const err = await store.get("no/such.bin").catch((e) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.message).toContain('"no/such.bin"');
    expect(err.message).toContain(store.location);
  });

  it("detects an object whose bytes do not match their checksum", async () => {
    const { store, tamper } = make();
    await store.put("theta.bin", pattern(4096, 7));
    const bad = pattern(4096, 7);
    bad[100] ^= 1;
    await tamper("theta.bin", bad);
    const err = await store.get("theta.bin").catch((e) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect(err.message).toMatch(/"theta\.bin" is corrupt/);
  });

  it(
    "writes conditionally: create-only, then only over the version read; a stale version is " +
      "refused and changes nothing",
    async () => {
      const { store } = make();
      expect(await store.getVersioned("pointer.json")).toBeNull();
      const v1 = await store.putIfMatch("pointer.json", pattern(64, 1), null);
      expect(v1).not.toBeNull();
      // create-only again: the object exists now
      expect(await store.putIfMatch("pointer.json", pattern(64, 2), null)).toBeNull();
      const read1 = await store.getVersioned("pointer.json");
      expect(read1!.version).toBe(v1);
      expect(Buffer.from(read1!.bytes).equals(Buffer.from(pattern(64, 1)))).toBe(true);
      const v2 = await store.putIfMatch("pointer.json", pattern(64, 3), read1!.version);
      expect(v2).not.toBeNull();
      expect(v2).not.toBe(v1);
      // a writer still holding version 1 loses, and the object stays version 2
      expect(await store.putIfMatch("pointer.json", pattern(64, 4), v1)).toBeNull();
      const read2 = await store.getVersioned("pointer.json");
      expect(read2!.version).toBe(v2);
      expect(Buffer.from(read2!.bytes).equals(Buffer.from(pattern(64, 3)))).toBe(true);
      expect(await store.list("")).toEqual(["pointer.json"]);
    },
  );

  it(
    "lets exactly one of many racing conditional writes over the same version through, and " +
      "loses no update when the losers retry",
    async () => {
      const { store } = make();
      await store.putIfMatch("counter.json", new TextEncoder().encode("[]"), null);
      const first = await store.getVersioned("counter.json");
      const race = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          store.putIfMatch("counter.json", new TextEncoder().encode(JSON.stringify([i])), first!.version),
        ),
      );
      expect(race.filter((v) => v !== null)).toHaveLength(1);
      // read-modify-write with retries: every writer's entry ends up in the list
      const append = async (i: number) => {
        for (;;) {
          const cur = (await store.getVersioned("counter.json"))!;
          const list = JSON.parse(new TextDecoder().decode(cur.bytes)) as number[];
          if (
            (await store.putIfMatch(
              "counter.json",
              new TextEncoder().encode(JSON.stringify([...list, i])),
              cur.version,
            )) !== null
          )
            return;
        }
      };
      await Promise.all(Array.from({ length: 6 }, (_, i) => append(100 + i)));
      const final = JSON.parse(new TextDecoder().decode((await store.getVersioned("counter.json"))!.bytes)) as number[];
      expect(final.slice(1).sort()).toEqual([100, 101, 102, 103, 104, 105]);
    },
  );

  it("stores JSON and refuses bad keys", async () => {
    const { store } = make();
    await putJson(store, "spec.json", { name: "x", k: [1, 2] });
    expect(await getJson(store, "spec.json")).toEqual({ name: "x", k: [1, 2] });
    for (const key of ["", "/abs", "a/../b", "a//b", "trailing/"])
      await expect(store.put(key, new Uint8Array(1))).rejects.toThrow(StoreError);
  });
});

describe("S3 client settings", () => {
  it("use path-style addressing and only required checksums for S3-compatible endpoints, SDK defaults on AWS", () => {
    const compatible = s3ClientConfig({ endpoint: "http://127.0.0.1:9000", region: "eu-west-1" });
    expect(compatible).toMatchObject({
      endpoint: "http://127.0.0.1:9000",
      forcePathStyle: true,
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      region: "eu-west-1",
    });
    const aws = s3ClientConfig({ region: "eu-west-1" });
    expect(aws).not.toHaveProperty("endpoint");
    expect(aws).not.toHaveProperty("requestChecksumCalculation");
  });
});

describe("openStore", () => {
  it("opens s3:// locations with an endpoint, and directories", async () => {
    const s = openStore(`s3://${server.bucket}/some/prefix`, { endpoint: server.endpoint });
    expect(s.location).toBe(`s3://${server.bucket}/some/prefix/`);
    expect(openStore(join(tmpdir(), "x")).location).toBe(join(tmpdir(), "x"));
    expect(() => openStore("gs://bucket/x")).toThrow(/unsupported store/);
    expect(() => openStore("s3://Bad_Bucket/x")).toThrow(/not a valid S3 bucket name/);
    expect(() => openStore("/tmp/dir", { endpoint: "http://x" })).toThrow(/--endpoint applies to s3:\/\//);
  });
});
