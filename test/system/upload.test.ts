// A 200 MB CSV upload to a real `enkf serve` process: it streams into the sharded format on a
// worker thread, so the server's peak RSS stays under 400 MB (read from /proc: VmHWM), and the
// server goes on answering: GET /jobs/{id} is polled throughout, and its p99 latency stays under
// 100 ms. The dataset it registers has every row.

import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnCli } from "../support/cli.ts";
import { until } from "../support/wait.ts";

const TOKEN = "upload-test-token-0123456789";
const H = { authorization: `Bearer ${TOKEN}` };
let server: ChildProcess;
let url = "";

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "enkf-upload-"));
  server = spawnCli(["serve", "--port", "0", "--data", join(dir, "svc")], { env: { ENKF_TOKEN: TOKEN } });
  let out = "";
  server.stdout!.on("data", (b: Buffer) => {
    out += b.toString();
  });
  server.stderr!.on("data", (b: Buffer) => {
    out += b.toString();
  });
  url = await until("the server to listen", async () => /listening on (http:\/\/\S+)/.exec(out)?.[1], 30_000);
});
afterAll(() => {
  server?.kill("SIGTERM");
});

/** VmHWM of the server process, in MiB: its peak resident memory so far. */
const peakMb = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, "utf8"))![1]) / 1024;

/** `mb` MiB of CSV, 8 features and a class label, in 1 MiB pieces made once and sent again. */
function csvBody(mb: number): { stream: ReadableStream<Uint8Array>; rows: number } {
  let s = 7;
  const r = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const lines: string[] = [];
  let size = 0;
  while (size < 2 ** 20) {
    const cells = Array.from({ length: 8 }, () => (r() * 200 - 100).toFixed(4));
    const line = `${cells.join(",")},${r() < 0.5 ? "a" : "b"}\n`;
    lines.push(line);
    size += line.length;
  }
  const block = new TextEncoder().encode(lines.join(""));
  let sent = -1;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent === -1) c.enqueue(new TextEncoder().encode("f1,f2,f3,f4,f5,f6,f7,f8,label\n"));
      else if (sent < mb) c.enqueue(block);
      else c.close();
      sent++;
    },
  });
  return { stream, rows: lines.length * mb };
}

describe("a 200 MB CSV upload to enkf serve", () => {
  it("streams to disk in bounded memory while the server keeps answering", async () => {
    const job = await fetch(`${url}/jobs`, {
      method: "POST",
      headers: { ...H, "content-type": "application/json" },
      body: JSON.stringify({
        name: "probe",
        problem: { type: "quadratic", dimension: 2 },
        optimizer: { method: "modified-enkf", ensembleSize: 2 },
        stop: { maxIterations: 1 },
      }),
    });
    // the service trains networks and inverse problems only: a 400 is an answer too; poll a job id that exists
    const probe = job.status === 202 ? ((await job.json()) as { id: string }).id : "no-such-job";
    const before = peakMb();
    const { stream, rows } = csvBody(200);
    const latencies: number[] = [];
    let uploading = true;
    const poller = (async () => {
      while (uploading) {
        const t = performance.now();
        const r = await fetch(`${url}/jobs/${probe}`, { headers: H });
        await r.arrayBuffer();
        latencies.push(performance.now() - t);
        await new Promise((res) => setTimeout(res, 20));
      }
    })();
    const t0 = performance.now();
    const res = await fetch(`${url}/datasets?name=big&label=label`, {
      method: "POST",
      headers: { ...H, "content-type": "text/csv" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    const seconds = (performance.now() - t0) / 1000;
    uploading = false;
    await poller;
    const text = await res.text();
    expect(res.status, text).toBe(201);
    const view = JSON.parse(text) as { rows: { train: number; test: number }; features: number };
    expect(view.rows.train + view.rows.test).toBe(rows);
    expect(view.features).toBe(8);
    latencies.sort((a, b) => a - b);
    const p99 = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))];
    const peak = peakMb();
    console.log(
      `200 MiB upload: ${rows} rows in ${seconds.toFixed(1)} s; server peak RSS ` +
        `${peak.toFixed(0)} MiB (${before.toFixed(0)} before); GET /jobs/{id} during it: ` +
        `${latencies.length} requests, p50 ` +
        `${latencies[Math.floor(latencies.length / 2)].toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, ` +
        `max ${latencies[latencies.length - 1].toFixed(1)} ms`,
    );
    expect(latencies.length).toBeGreaterThan(20);
    expect(peak).toBeLessThan(400);
    expect(p99).toBeLessThan(100);
  }, 300_000);
});
