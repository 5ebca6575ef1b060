// A BlobStore over a local directory. An object is a file written to a temporary name and renamed
// into place; its sha256 sits beside it in "<file>.sha256", written after the data, so an object
// without a matching checksum file is one whose write did not finish. A conditional write
// (putIfMatch) holds an exclusive lock file beside the object (created with O_EXCL) while it
// compares the stored sha256 with the expected one and renames the new bytes into place.

import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { basename, dirname, join, relative, sep } from "node:path";
import { threadId } from "node:worker_threads";
import { checkKey, NotFoundError, readSettled, sha256Hex, StoreError, verify, type BlobStore } from "./blobStore.ts";

const SUM = ".sha256";
const TMP = ".tmp-";
let counter = 0;
/** a lock file older than this is a crashed writer's, and is broken */
const STALE_LOCK_MS = 30_000;
/** how long a conditional write waits for the lock */
const LOCK_WAIT_MS = 60_000;

export interface LocalStoreOptions {
  /** called with each key once its bytes are in place and before its checksum is (crash tests) */
  afterBytes?: (key: string) => void;
}

export function localStore(root: string, opts: LocalStoreOptions = {}): BlobStore {
  const location = root;
  const path = (key: string) => { checkKey(key); return join(root, ...key.split("/")); };
  const fail = (key: string, e: unknown): never => {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "ENOENT") throw new NotFoundError(location, key);
    throw new StoreError(`${location}: ${key}: ${err.code ?? ""} ${err.message}`.replace(/\s+/g, " "));
  };

  async function writeAtomic(file: string, data: Uint8Array | string): Promise<void> {
    // unique across processes and across worker threads of one process
    const tmp = join(dirname(file), `${TMP}${process.pid}-${threadId}-${counter++}`);
    await writeFile(tmp, data);
    await rename(tmp, file);
  }

  function writable(key: string): string {
    const file = path(key);
    if (key.endsWith(SUM) || key.split("/").some((s) => s.startsWith(TMP))) throw new StoreError(`invalid store key "${key}": names ending in ${SUM} or starting with ${TMP} are the store's own`);
    return file;
  }

  async function writeObject(key: string, file: string, bytes: Uint8Array): Promise<string> {
    const sum = sha256Hex(bytes);
    try {
      await mkdir(dirname(file), { recursive: true });
      // the old checksum goes first, so a crash mid-overwrite leaves no matching pair behind
      await rm(file + SUM, { force: true });
      await writeAtomic(file, bytes);
      opts.afterBytes?.(key); // fault injection only: the bytes without their checksum
      await writeAtomic(file + SUM, sum);
    } catch (e) {
      // a missing file here is a write that failed, not an absent object
      const err = e as NodeJS.ErrnoException;
      throw new StoreError(`${location}: cannot write ${key}: ${err.code ?? ""} ${err.message}`.replace(/\s+/g, " "));
    }
    return sum;
  }

  /** Takes the object's lock file (O_EXCL); answers its release. A stale lock is broken. */
  async function lock(key: string, file: string): Promise<() => Promise<void>> {
    const lockFile = join(dirname(file), `${TMP}lock-${basename(file)}`);
    await mkdir(dirname(file), { recursive: true });
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (let wait = 1; ; wait = Math.min(wait * 2, 20)) {
      try {
        await (await open(lockFile, "wx")).close();
        return () => rm(lockFile, { force: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw new StoreError(`${location}: cannot lock ${key}: ${(e as Error).message}`);
      }
      const age = await stat(lockFile).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > STALE_LOCK_MS) await rm(lockFile, { force: true });
      else if (Date.now() > deadline) throw new StoreError(`${location}: ${key} stayed locked for ${LOCK_WAIT_MS / 1000} s by another writer`);
      else await sleep(wait);
    }
  }

  const store: BlobStore = {
    location,
    async put(key, bytes) {
      return writeObject(key, writable(key), bytes);
    },
    async getVersioned(key) {
      try {
        // a reader may meet a conditional write between its bytes and its checksum
        const bytes = await readSettled(() => store.get(key));
        return { bytes, version: sha256Hex(bytes) };
      } catch (e) {
        if (e instanceof NotFoundError) return null;
        throw e;
      }
    },
    async putIfMatch(key, bytes, expected) {
      const file = writable(key);
      const release = await lock(key, file);
      try {
        const exists = await stat(file).then(() => true, () => false);
        const current = exists ? (await readFile(file + SUM, "utf8").catch(() => "")).trim() : null;
        if (current !== expected) return null;
        return await writeObject(key, file, bytes);
      } finally {
        await release();
      }
    },
    async get(key) {
      const file = path(key);
      let bytes: Uint8Array;
      let sum: string | undefined;
      try {
        bytes = new Uint8Array(await readFile(file));
      } catch (e) {
        return fail(key, e);
      }
      try {
        sum = (await readFile(file + SUM, "utf8")).trim();
      } catch {
        sum = undefined;
      }
      verify(location, key, bytes, sum);
      return bytes;
    },
    async has(key) {
      try {
        return (await stat(path(key))).isFile();
      } catch {
        return false;
      }
    },
    async list(prefix) {
      const out: string[] = [];
      async function walk(dir: string): Promise<void> {
        let entries;
        try {
          entries = await readdir(dir, { withFileTypes: true });
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
          throw new StoreError(`${location}: cannot list ${dir}: ${(e as Error).message}`);
        }
        for (const e of entries) {
          const full = join(dir, e.name);
          if (e.isDirectory()) await walk(full);
          else if (e.isFile() && !e.name.endsWith(SUM) && !e.name.startsWith(TMP)) {
            const key = relative(root, full).split(sep).join("/");
            if (key.startsWith(prefix)) out.push(key);
          }
        }
      }
      await walk(root);
      return out.sort();
    },
    async delete(key) {
      const file = path(key);
      await rm(file + SUM, { force: true });
      await rm(file, { force: true });
    },
  };
  return store;
}
