// The S3-compatible server of the integration tests: s3rver 3.7.1 in this process, plus two
// things S3 guarantees and s3rver does not:
// - conditional writes (PutObject with If-None-Match: * or If-Match: <ETag>, answered 412
//   PreconditionFailed when the condition fails), which s3rver ignores;
// - atomic reads: s3rver streams an object's file after its handler returns, and a write that
//   replaces the file meanwhile aborts the reader's response ("Error: aborted").
// Every request on one object (GET, HEAD, PUT, DELETE) runs under one lock per key, with a GET's
// body read whole inside it, so racing requests are ordered as S3 orders them: a reader sees the
// old object or the new one, and of two racing conditional writes one succeeds and the other gets
// 412. Everything else is s3rver's own.
// Usage: node s3rverMain.cjs <directory> <port> <bucket>

"use strict";
const S3rver = require("s3rver");
const S3Error = require("s3rver/lib/models/error");

const [directory, port, bucket] = process.argv.slice(2);
const server = new S3rver({
  directory,
  port: Number(port),
  address: "127.0.0.1",
  silent: true,
  configureBuckets: [{ name: bucket }],
});

const locks = new Map();
function withLock(key, fn) {
  const prev = locks.get(key) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.catch(() => undefined);
  locks.set(key, tail);
  tail.then(() => {
    if (locks.get(key) === tail) locks.delete(key);
  });
  return run;
}
const unquote = (s) => s.replace(/"/g, "");

async function readWhole(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

server.middleware.unshift(async (ctx, next) => {
  const [b, ...rest] = ctx.path.slice(1).split("/");
  const key = decodeURIComponent(rest.join("/"));
  if (!b || !key || !["GET", "HEAD", "PUT", "DELETE"].includes(ctx.method)) return next();
  const ifMatch = ctx.get("if-match"),
    ifNoneMatch = ctx.get("if-none-match");
  const conditionalPut =
    ctx.method === "PUT" &&
    (ifMatch || ifNoneMatch) &&
    !ctx.get("x-amz-copy-source") &&
    !/(^|&)(uploadId|partNumber|tagging|acl)=/.test(ctx.querystring);
  return withLock(`${b}/${key}`, async () => {
    if (conditionalPut) {
      const exists = await server.store.existsObject(b, key);
      if (ifNoneMatch === "*" && exists)
        throw new S3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", {
          Condition: "If-None-Match",
        });
      if (ifMatch) {
        if (!exists) throw new S3Error("NoSuchKey", "The specified key does not exist.", { Key: key });
        const etag = (await server.store.getMetadata(b, key)).etag;
        if (unquote(etag) !== unquote(ifMatch))
          throw new S3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", {
            Condition: "If-Match",
          });
      }
    }
    await next();
    if (ctx.method === "GET" && ctx.body && typeof ctx.body.pipe === "function") ctx.body = await readWhole(ctx.body);
  });
});

server.run().then(
  () => console.log(`listening on 127.0.0.1:${port}`),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
process.on("SIGTERM", () => server.close().then(() => process.exit(0)));
