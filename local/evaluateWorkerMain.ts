// Worker side of the local engine's evaluate pool: runs the Evaluate handler on each task it is
// sent and answers with its output or its error message.

import { parentPort } from "node:worker_threads";
import { localHandlers as handlers } from "./handlers.ts";

parentPort!.on("message", async ({ id, event }: { id: number; event: unknown }) => {
  try {
    parentPort!.postMessage({ id, output: await handlers.evaluate(event) });
  } catch (e) {
    parentPort!.postMessage({ id, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  }
});
