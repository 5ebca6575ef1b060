// A BlobStore over an S3 bucket and key prefix, for AWS or any S3-compatible endpoint (MinIO,
// s3rver, …): `endpoint` with path-style addressing. Against non-AWS endpoints the SDK's default
// request checksums are turned off (WHEN_REQUIRED): with them, some servers store streamed bodies
// with the SDK's chunk framing inside. Each object's sha256 is stored as user metadata and checked
// on read. putIfMatch is a conditional PutObject: If-Match on the ETag read, or If-None-Match: *
// for a new object; 412 (PreconditionFailed) or 409 (ConditionalRequestConflict, a concurrent
// conditional write) means the object changed meanwhile.

import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import {
  checkKey,
  movePrefix,
  NotFoundError,
  readSettled,
  sha256Hex,
  StoreError,
  verify,
  type BlobStore,
} from "./blobStore.ts";

export interface S3StoreOptions {
  bucket: string;
  /** key prefix of the job's objects ("" or ending in "/") */
  prefix?: string;
  /** an S3-compatible endpoint URL (path-style); AWS when absent */
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** the client to use instead of building one (tests, custom settings) */
  client?: S3Client;
}

export function s3ClientConfig(opts: Pick<S3StoreOptions, "endpoint" | "region" | "credentials">): S3ClientConfig {
  return {
    region: opts.region ?? process.env.AWS_REGION ?? "us-east-1",
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
    ...(opts.endpoint
      ? {
          endpoint: opts.endpoint,
          forcePathStyle: true,
          requestChecksumCalculation: "WHEN_REQUIRED",
          responseChecksumValidation: "WHEN_REQUIRED",
        }
      : {}),
  };
}

export function s3Store(opts: S3StoreOptions): BlobStore {
  const prefix = opts.prefix ?? "";
  if (prefix !== "" && !prefix.endsWith("/"))
    throw new StoreError(`S3 prefix "${prefix}" must be empty or end with "/"`);
  const client = opts.client ?? new S3Client(s3ClientConfig(opts));
  const location = `s3://${opts.bucket}/${prefix}`;
  const Bucket = opts.bucket;
  const objectKey = (key: string) => {
    checkKey(key);
    return prefix + key;
  };
  /** A PutObject of `bytes` with their sha256 as metadata, and `extra` (a condition, tags). */
  const putCommand = (
    key: string,
    bytes: Uint8Array,
    contentType: string,
    sum: string,
    extra: { IfNoneMatch?: string; IfMatch?: string; Tagging?: string },
  ) =>
    new PutObjectCommand({
      Bucket,
      Key: objectKey(key),
      Body: bytes,
      ContentType: contentType,
      ContentLength: bytes.length,
      Metadata: { sha256: sum },
      ...extra,
    });
  const fail = (key: string, e: unknown): never => {
    const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    if (err.name === "NoSuchKey" || err.name === "NotFound" || err.$metadata?.httpStatusCode === 404)
      throw new NotFoundError(location, key);
    throw new StoreError(`${location}${key}: ${err.name ?? "error"}: ${err.message ?? String(e)}`);
  };

  async function read(key: string): Promise<{ bytes: Uint8Array; etag: string }> {
    let bytes: Uint8Array, sum: string | undefined, etag: string;
    try {
      const r = await client.send(new GetObjectCommand({ Bucket, Key: objectKey(key) }));
      if (!r.Body) throw new StoreError(`${location}${key}: empty response body`);
      bytes = await r.Body.transformToByteArray();
      sum = r.Metadata?.sha256;
      etag = r.ETag ?? "";
    } catch (e) {
      if (e instanceof StoreError) throw e;
      return fail(key, e);
    }
    verify(location, key, bytes, sum);
    return { bytes, etag };
  }

  const store: BlobStore = {
    location,
    async getVersioned(key) {
      try {
        // an S3-compatible server may show a write in progress (S3 itself never does)
        const { bytes, etag } = await readSettled(() => read(key));
        if (!etag)
          throw new StoreError(`${location}${key}: the server answered no ETag, which a conditional write needs`);
        return { bytes, version: etag };
      } catch (e) {
        if (e instanceof NotFoundError) return null;
        throw e;
      }
    },
    async putIfMatch(key, bytes, expected, contentType = "application/octet-stream") {
      const sum = sha256Hex(bytes);
      try {
        const r = await client.send(
          putCommand(key, bytes, contentType, sum, expected === null ? { IfNoneMatch: "*" } : { IfMatch: expected }),
        );
        return r.ETag ?? sum;
      } catch (e) {
        const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
        const status = err.$metadata?.httpStatusCode;
        // 412: the condition failed; 409: another conditional write won; 404: deleted meanwhile
        if (
          status === 412 ||
          status === 409 ||
          err.name === "PreconditionFailed" ||
          err.name === "ConditionalRequestConflict" ||
          (expected !== null && (status === 404 || err.name === "NoSuchKey"))
        )
          return null;
        return fail(key, e);
      }
    },
    async deleteMany(keys) {
      // DeleteObjects takes 1,000 keys a request
      for (let i = 0; i < keys.length; i += 1000) {
        const batch = keys.slice(i, i + 1000);
        let r;
        try {
          r = await client.send(
            new DeleteObjectsCommand({
              Bucket,
              Delete: { Objects: batch.map((k) => ({ Key: objectKey(k) })), Quiet: true },
            }),
          );
        } catch (e) {
          return fail(batch[0], e);
        }
        const failed = r.Errors?.[0];
        if (failed)
          throw new StoreError(
            `${location}: cannot delete ${failed.Key?.slice(prefix.length)}: ${failed.Code}: ${failed.Message}`,
          );
      }
    },
    sibling(relative) {
      const moved = movePrefix(prefix, relative);
      if (moved === null) throw new StoreError(`${location}: "${relative}" leaves the bucket`);
      return s3Store({ bucket: Bucket, prefix: moved, client });
    },
    async presign(key, op, seconds, sha256): Promise<{ url: string; headers: Record<string, string> }> {
      if (op === "get")
        return {
          url: await getSignedUrl(client, new GetObjectCommand({ Bucket, Key: objectKey(key) }), {
            expiresIn: seconds,
          }),
          headers: {},
        };
      if (!sha256 || !/^[0-9a-f]{64}$/.test(sha256))
        throw new StoreError(`presigning an upload of ${key} needs the file's sha256 (64 hex digits)`);
      // the metadata header is signed, so the upload must carry exactly this hash
      const url = await getSignedUrl(
        client,
        new PutObjectCommand({ Bucket, Key: objectKey(key), Metadata: { sha256 } }),
        { expiresIn: seconds, unhoistableHeaders: new Set(["x-amz-meta-sha256"]) },
      );
      return { url, headers: { "x-amz-meta-sha256": sha256 } };
    },
    async put(key, bytes, contentType = "application/octet-stream", tags) {
      const sum = sha256Hex(bytes);
      const Tagging = tags ? new URLSearchParams(tags).toString() : undefined;
      try {
        await client.send(putCommand(key, bytes, contentType, sum, Tagging ? { Tagging } : {}));
      } catch (e) {
        fail(key, e);
      }
      return sum;
    },
    async get(key) {
      return (await read(key)).bytes;
    },
    async has(key) {
      try {
        await client.send(new HeadObjectCommand({ Bucket, Key: objectKey(key) }));
        return true;
      } catch (e) {
        try {
          fail(key, e);
        } catch (f) {
          if (f instanceof NotFoundError) return false;
          throw f;
        }
        return false;
      }
    },
    async list(keyPrefix) {
      const out: string[] = [];
      let token: string | undefined;
      do {
        let r;
        try {
          r = await client.send(
            new ListObjectsV2Command({ Bucket, Prefix: prefix + keyPrefix, ContinuationToken: token }),
          );
        } catch (e) {
          return fail(keyPrefix, e);
        }
        for (const o of r.Contents ?? []) if (o.Key) out.push(o.Key.slice(prefix.length));
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token);
      return out.sort();
    },
    async delete(key) {
      try {
        await client.send(new DeleteObjectCommand({ Bucket, Key: objectKey(key) }));
      } catch (e) {
        try {
          fail(key, e);
        } catch (f) {
          if (!(f instanceof NotFoundError)) throw f;
        }
      }
    },
  };
  return store;
}
