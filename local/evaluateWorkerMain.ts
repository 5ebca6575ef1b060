// Worker side of the local engine's evaluate pool: runs the Evaluate handler on each task it is
// sent and answers with its output, or its error's name and message (the pool rebuilds a full
// store's error, which the server reports as such).

import { parentPort } from "node:worker_threads";
import { localHandlers as handlers } from "./handlers.ts";

parentPort!.on("message", async ({ id, event }: { id: number; event: unknown }) => {
  try {
    parentPort!.postMessage({ id, output: await handlers.evaluate(event) });
  } catch (e) {
    parentPort!.postMessage(
      e instanceof Error ? { id, error: e.message, name: e.name } : { id, error: String(e), name: "Error" },
    );
  }
});
