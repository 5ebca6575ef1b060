// Idempotent submission: a job's id derives from its Idempotency-Key (so a retried submit finds
// the first job), and one critical section per key in this process serializes two submits that
// race with the same key. Ids without a key are fresh.

import { createHash, randomBytes } from "node:crypto";

export const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** A fresh id: the prefix, the time in base 36 and 12 random hex digits. */
export const newId = (prefix: string) => `${prefix}${Date.now().toString(36)}${randomBytes(6).toString("hex")}`;

/** The job id an Idempotency-Key stands for. */
export const keyedId = (key: string) => `k${sha256(key).slice(0, 24)}`;

/** Whether a client's Idempotency-Key is acceptable: 1 to 255 visible ASCII characters. */
export const validKey = (key: string) => /^[\x21-\x7e]{1,255}$/.test(key);

export class KeyedLock {
  private readonly locks = new Map<string, Promise<unknown>>();

  /** Runs `fn` after every earlier call with the same key has settled. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(key) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(fn);
    this.locks.set(key, next);
    try {
      return await next;
    } finally {
      if (this.locks.get(key) === next) this.locks.delete(key);
    }
  }
}
