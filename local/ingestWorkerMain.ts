// Worker side of a CSV upload's ingestion: the pieces the server posts become the source of
// shared/service/csvUpload.ts's ingestCsv (each acknowledged as it is taken, so the server never
// holds more than a few in flight); the answer is the manifest, or the error as data.

import { parentPort, workerData } from "node:worker_threads";
import { errorData, ingestCsv, type IngestRequest, type IngestTarget } from "../shared/service/csvUpload.ts";

type Message = { chunk: Uint8Array } | { end: true } | { abort: string };

const { req, target } = workerData as { req: IngestRequest; target: IngestTarget };
const queue: Message[] = [];
let wake: (() => void) | undefined;
parentPort!.on("message", (m: Message) => {
  queue.push(m);
  wake?.();
});

async function* pieces(): AsyncIterable<Uint8Array> {
  for (;;) {
    while (queue.length === 0)
      await new Promise<void>((r) => {
        wake = r;
      });
    const m = queue.shift()!;
    if ("end" in m) return;
    if ("abort" in m) throw new Error(m.abort);
    parentPort!.postMessage({ ack: m.chunk.byteLength });
    yield m.chunk;
  }
}

try {
  parentPort!.postMessage({ manifest: await ingestCsv(pieces(), req, target) });
} catch (e) {
  parentPort!.postMessage({ error: errorData(e) });
}
