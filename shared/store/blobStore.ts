// The storage contract of a job: a flat key → bytes store under a prefix (a local directory or an
// S3 bucket). Every object carries the sha256 of its bytes, written with it and checked on every
// read, so a truncated or corrupted object is an error, never silently wrong data.

import { createHash } from "node:crypto";

export interface BlobStore {
  /** where the store points, for messages ("s3://bucket/prefix" or a directory) */
  readonly location: string;
  /** writes the object whole (readers never see a partial object); returns its sha256 (hex).
   *  `tags` become S3 object tags (the bucket's lifecycle rules select by them); a directory ignores them */
  put(key: string, bytes: Uint8Array, contentType?: string, tags?: Record<string, string>): Promise<string>;
  /** the object's bytes, checked against the sha256 stored with it; NotFoundError if absent */
  get(key: string): Promise<Uint8Array>;
  /** whether the object exists */
  has(key: string): Promise<boolean>;
  /** keys under a key prefix, sorted */
  list(prefix: string): Promise<string[]>;
  /** removes the object (no error if absent) */
  delete(key: string): Promise<void>;
  /** removes the objects (no error for those absent), in batches where the store has them */
  deleteMany(keys: string[]): Promise<void>;
  /** the object with its version (an S3 ETag, a directory's sha256), or null when absent: the
   *  `expected` of a later putIfMatch */
  getVersioned(key: string): Promise<{ bytes: Uint8Array; version: string } | null>;
  /**
   * Writes the object only if its version is still `expected` (null: only if it does not exist):
   * a compare-and-swap. Answers the new version, or null when the object changed meanwhile (the
   * caller re-reads and decides again). On S3 a conditional PutObject (If-Match / If-None-Match);
   * on a directory an exclusive lock file around the check and the rename.
   */
  putIfMatch(key: string, bytes: Uint8Array, expected: string | null, contentType?: string): Promise<string | null>;
  /**
   * A time-limited URL that reads the object, or writes it (`put`, with the sha256 the reader will
   * check; the uploader sends the returned headers). Only stores reachable over HTTP (S3) have it.
   */
  presign?(
    key: string,
    op: "get" | "put",
    seconds: number,
    sha256?: string,
  ): Promise<{ url: string; headers: Record<string, string> }>;
  /** The store at a location relative to this one ("../../blobs"), reached the same way (the same
   *  S3 client and bucket); it may not leave the directory's root or the bucket. */
  sibling(relative: string): BlobStore;
}

/** A '/'-separated prefix ("a/b/", or "") moved by a relative path; null when it leaves the top. */
export function movePrefix(prefix: string, relative: string): string | null {
  const parts = prefix.split("/").filter(Boolean);
  for (const p of relative.split("/").filter(Boolean)) {
    if (p === "..") {
      if (parts.pop() === undefined) return null;
    } else if (p !== ".") parts.push(p);
  }
  return parts.length ? parts.join("/") + "/" : "";
}

export class StoreError extends Error {
  override name = "StoreError";
}

export class NotFoundError extends StoreError {
  override name = "NotFoundError";
  constructor(
    readonly location: string,
    readonly key: string,
  ) {
    super(`${location}: no object "${key}"`);
  }
}

export class IntegrityError extends StoreError {
  override name = "IntegrityError";
}

/** The store has no room for a write (a full disk, a quota): the write did not happen. */
export class StoreFullError extends StoreError {
  override name = "StoreFullError";
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Keys are relative, '/'-separated, without empty, "." or ".." segments. */
export function checkKey(key: string): void {
  if (
    key.length === 0 ||
    key.length > 900 ||
    key.startsWith("/") ||
    key.endsWith("/") ||
    key.split("/").some((s) => s === "" || s === "." || s === "..") ||
    /[\\\0]/.test(key)
  ) {
    throw new StoreError(
      `invalid store key "${key}": use relative '/'-separated names without empty, '.' or '..' parts`,
    );
  }
}

/** Throws IntegrityError unless the bytes hash to `expected`. */
export function verify(location: string, key: string, bytes: Uint8Array, expected: string | undefined): void {
  if (!expected)
    throw new IntegrityError(
      `${location}: object "${key}" has no stored sha256; it was not written by this store or its write did not finish`,
    );
  const actual = sha256Hex(bytes);
  if (actual !== expected)
    throw new IntegrityError(
      `${location}: object "${key}" is corrupt: sha256 ${actual.slice(0, 12)}… of ` +
        `${bytes.length} bytes, stored ${expected.slice(0, 12)}…`,
    );
}

/** UTF-8 JSON helpers over a store. */
export async function putJson(
  store: BlobStore,
  key: string,
  value: unknown,
  tags?: Record<string, string>,
): Promise<string> {
  return store.put(key, new TextEncoder().encode(JSON.stringify(value) + "\n"), "application/json", tags);
}

export async function getJson(store: BlobStore, key: string): Promise<unknown> {
  const text = new TextDecoder().decode(await store.get(key));
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new IntegrityError(`${store.location}: object "${key}" is not valid JSON (${(e as Error).message})`);
  }
}

/** Reads again while the object is caught mid-write (IntegrityError: bytes without their new
 *  checksum), as a reader of an object that conditional writes replace can be; gives up after
 *  about a quarter of a second. */
export async function readSettled<T>(read: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await read();
    } catch (e) {
      if (!(e instanceof IntegrityError) || attempt >= 50) throw e;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}
