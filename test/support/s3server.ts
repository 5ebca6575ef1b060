// A real S3-compatible server for integration tests: s3rver (npm) in its own process on
// 127.0.0.1, a fresh data directory, one bucket; stopped and removed by stop(). s3rverMain.cjs
// runs it with S3's conditional writes (If-Match / If-None-Match on PutObject), which s3rver
// 3.7.1 lacks.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface S3Server {
  endpoint: string;
  bucket: string;
  /** s3rver accepts any credentials; the SDK still wants some */
  credentials: { accessKeyId: string; secretAccessKey: string };
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export async function startS3Server(bucket = "enkf-test"): Promise<S3Server> {
  const dir = mkdtempSync(join(tmpdir(), "s3rver-"));
  const port = await freePort();
  const main = join(import.meta.dirname, "s3rverMain.cjs");
  const child: ChildProcess = spawn(process.execPath, [main, dir, String(port), bucket], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`s3rver did not start within 20 s:\n${log}`)), 20_000);
    const onData = (b: Buffer) => {
      log += b.toString();
      if (/listening on/i.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited with ${code}:\n${log}`));
    });
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
