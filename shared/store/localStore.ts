// A BlobStore over a local directory, crash-consistent: a failure or a kill at any step of a write
// leaves the object readable with its old value or its new one, never neither.
//
// An object is two files: "<file>", its bytes, and "<file>.sha256", the sums its bytes may have
// (one line each). A write puts the new bytes under a fresh temporary name (fsynced), then switches
// in three atomic renames:
//   1. the sums become "old, new" (either value reads),
//   2. the new bytes replace the old,
//   3. the sums become "new";
// and fsyncs the directory, so the renames survive a power cut. Between 1 and 3 both values verify,
// so a reader sees the old object or the new one whatever step a crash interrupted; a failed write
// removes its temporary files. A reader reads the sums, then the bytes, then the sums again if the
// bytes matched neither (a write may have switched in between). Keys the caller calls
// recomputable (a job's rounds) skip the fsyncs. A conditional write (putIfMatch) holds an
// exclusive lock file beside the object (O_EXCL) while it compares and writes. A full disk is a
// StoreFullError.

import { mkdir, open, readdir, readFile, rename, rm, rmdir, stat } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { threadId } from "node:worker_threads";
import {
  checkKey,
  IntegrityError,
  NotFoundError,
  readSettled,
  sha256Hex,
  StoreError,
  StoreFullError,
  type BlobStore,
} from "./blobStore.ts";

const SUM = ".sha256";
const TMP = ".tmp-";
let counter = 0;
/** a lock file older than this is a crashed writer's, and is broken */
const STALE_LOCK_MS = 30_000;
/** how long a conditional write waits for the lock */
const LOCK_WAIT_MS = 60_000;

export interface LocalStoreOptions {
  /** called with each key once its new bytes are in place, before its sums settle (crash tests) */
  afterBytes?: (key: string) => void;
  /** keys whose loss a reader recovers from (a job's rounds: resume falls back a round), so
   *  their writes skip the fsyncs that make the others survive a power cut */
  recomputable?: (key: string) => boolean;
}

/** The codes that mean the file system has no room (a full disk, a quota). */
const FULL = new Set(["ENOSPC", "EDQUOT"]);

export function localStore(root: string, opts: LocalStoreOptions = {}): BlobStore {
  const location = root;
  const path = (key: string) => {
    checkKey(key);
    return join(root, ...key.split("/"));
  };
  const fail = (key: string, e: unknown, what = ""): never => {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "ENOENT" && !what) throw new NotFoundError(location, key);
    const message = `${location}: ${what ? `cannot ${what} ` : ""}${key}: ${err.code ?? ""} ${err.message}`.replace(
      /\s+/g,
      " ",
    );
    if (err.code && FULL.has(err.code)) throw new StoreFullError(message);
    throw new StoreError(message);
  };
  // unique across processes and across worker threads of one process
  const tmpName = (dir: string) => join(dir, `${TMP}${process.pid}-${threadId}-${counter++}`);

  async function writeFileAt(file: string, data: Uint8Array | string, durable: boolean): Promise<void> {
    const h = await open(file, "wx");
    try {
      await h.writeFile(data);
      if (durable) await h.sync();
    } finally {
      await h.close();
    }
  }

  /** Removes `dir` and its parents while they are empty, up to (not including) `stop`. */
  async function pruneEmpty(dir: string, stop: string): Promise<void> {
    for (; dir.length > stop.length && dir.startsWith(stop + sep); dir = dirname(dir)) {
      if (
        !(await rmdir(dir).then(
          () => true,
          () => false,
        ))
      )
        break;
    }
  }

  async function syncDir(dir: string): Promise<void> {
    const h = await open(dir, "r");
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  }

  async function readSums(file: string): Promise<string[]> {
    try {
      return (await readFile(file + SUM, "utf8"))
        .split("\n")
        .map((s) => s.trim())
        .filter(Boolean);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw e;
    }
  }

  function writable(key: string): string {
    const file = path(key);
    if (key.endsWith(SUM) || key.split("/").some((s) => s.startsWith(TMP)))
      throw new StoreError(
        `invalid store key "${key}": names ending in ${SUM} or starting with ${TMP} are the store's own`,
      );
    return file;
  }

  async function writeObject(key: string, file: string, bytes: Uint8Array, durable = true): Promise<string> {
    const sum = sha256Hex(bytes);
    const dir = dirname(file);
    const tmp = tmpName(dir),
      tmpSums = tmpName(dir);
    let made: string | undefined;
    try {
      made = await mkdir(dir, { recursive: true });
      await writeFileAt(tmp, bytes, durable);
      const current = await readSums(file);
      const both = current.includes(sum) ? current : [...current, sum];
      if (both !== current) {
        await writeFileAt(tmpSums, both.join("\n") + "\n", durable);
        await rename(tmpSums, file + SUM);
      }
      await rename(tmp, file);
      opts.afterBytes?.(key); // fault injection only: a crash with the new bytes in place
      if (both.length !== 1) {
        await writeFileAt(tmpSums, sum + "\n", durable);
        await rename(tmpSums, file + SUM);
      }
      if (durable) await syncDir(dir);
    } catch (e) {
      await Promise.all([rm(tmp, { force: true }), rm(tmpSums, { force: true })]).catch(() => undefined);
      // and the folders this write made (the store's own root, too), if they stayed empty
      if (made) await pruneEmpty(dir, dirname(made));
      return fail(key, e, "write");
    }
    return sum;
  }

  /** Takes the object's lock file (O_EXCL); answers its release. A stale lock is broken. */
  async function lock(key: string, file: string): Promise<() => Promise<void>> {
    const lockFile = join(dirname(file), `${TMP}lock-${basename(file)}`);
    const deadline = Date.now() + LOCK_WAIT_MS;
    try {
      await mkdir(dirname(file), { recursive: true });
    } catch (e) {
      return fail(key, e, "lock");
    }
    for (let wait = 1; ; wait = Math.min(wait * 2, 20)) {
      try {
        await (await open(lockFile, "wx")).close();
        return () => rm(lockFile, { force: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") return fail(key, e, "lock");
      }
      const age = await stat(lockFile).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > STALE_LOCK_MS) await rm(lockFile, { force: true });
      else if (Date.now() > deadline)
        throw new StoreError(`${location}: ${key} stayed locked for ${LOCK_WAIT_MS / 1000} s by another writer`);
      else await sleep(wait);
    }
  }

  /** The object's bytes, checked against its sums (read again if a write switched meanwhile). */
  async function read(key: string): Promise<Uint8Array> {
    const file = path(key);
    let sums: string[], bytes: Uint8Array;
    try {
      sums = await readSums(file);
      bytes = new Uint8Array(await readFile(file));
    } catch (e) {
      return fail(key, e);
    }
    const actual = sha256Hex(bytes);
    if (sums.includes(actual)) return bytes;
    const again = await readSums(file).catch((): string[] => []);
    if (again.includes(actual)) return bytes;
    if (sums.length === 0 && again.length === 0)
      throw new IntegrityError(
        `${location}: object "${key}" has no stored sha256; it was not written by this store or ` +
          `its write did not finish`,
      );
    throw new IntegrityError(
      `${location}: object "${key}" is corrupt: sha256 ${actual.slice(0, 12)}… of ` +
        `${bytes.length} bytes, stored ${(again[0] ?? sums[0]).slice(0, 12)}…`,
    );
  }

  const store: BlobStore = {
    location,
    async put(key, bytes) {
      return writeObject(key, writable(key), bytes, !opts.recomputable?.(key));
    },
    async getVersioned(key) {
      try {
        // a reader may meet a conditional write in progress
        const bytes = await readSettled(() => read(key));
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
        const exists = await stat(file).then(
          () => true,
          () => false,
        );
        const current = exists ? sha256Hex(await read(key)) : null;
        if (current !== expected) return null;
        return await writeObject(key, file, bytes);
      } finally {
        // a lock left behind stalls the next writer until it is stale: try twice
        await release()
          .catch(() => release())
          .catch(() => undefined);
      }
    },
    get: read,
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
      // only the folder the prefix names can hold its keys
      const folder = prefix.includes("/") ? prefix.slice(0, prefix.lastIndexOf("/")) : "";
      if (folder) checkKey(folder);
      await walk(folder ? join(root, ...folder.split("/")) : root);
      return out.sort();
    },
    sibling(relative) {
      return localStore(resolve(root, relative), opts);
    },
    async deleteMany(keys) {
      for (const key of keys) await store.delete(key);
    },
    async delete(key) {
      const file = path(key);
      // the bytes first: a crash in between leaves only a stray sums file, never a readable half
      try {
        await rm(file, { force: true });
        await rm(file + SUM, { force: true });
      } catch (e) {
        fail(key, e, "delete");
      }
      // and the folders it leaves empty, up to the store's root
      await pruneEmpty(dirname(file), root);
    },
  };
  return store;
}
