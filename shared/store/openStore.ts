// Opens the store a location names: "s3://bucket/prefix" (with an optional S3-compatible
// endpoint) or a local directory.

import { localStore } from "./localStore.ts";
import { s3Store } from "./s3Store.ts";
import { StoreError, type BlobStore } from "./blobStore.ts";

export interface OpenStoreOptions {
  /** S3-compatible endpoint URL for s3:// locations */
  endpoint?: string;
  region?: string;
  /** directory stores: called between an object's bytes and its checksum (crash tests) */
  afterBytes?: (key: string) => void;
  /** directory stores: keys written without fsync, their loss being recoverable (localStore.ts) */
  recomputable?: (key: string) => boolean;
}

export function openStore(location: string, opts: OpenStoreOptions = {}): BlobStore {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(location);
  if (m) {
    const bucket = m[1];
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
      throw new StoreError(`"${bucket}" is not a valid S3 bucket name`);
    let prefix = m[2] ?? "";
    if (prefix !== "" && !prefix.endsWith("/")) prefix += "/";
    return s3Store({ bucket, prefix, endpoint: opts.endpoint, region: opts.region });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location))
    throw new StoreError(`unsupported store "${location}": use s3://bucket/prefix or a directory`);
  if (opts.endpoint) throw new StoreError(`--endpoint applies to s3:// stores, not the directory "${location}"`);
  return localStore(location, {
    ...(opts.afterBytes ? { afterBytes: opts.afterBytes } : {}),
    ...(opts.recomputable ? { recomputable: opts.recomputable } : {}),
  });
}
