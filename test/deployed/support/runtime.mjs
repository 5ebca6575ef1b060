// One Lambda execution environment, as the deployed-artifacts stage runs it: started by the
// Invoke endpoint (lambdaEndpoint.ts) with the function's environment and memory, it loads the
// handler from the task root the way the Node.js runtime does (index.handler → index.mjs, .js or
// .cjs; bare imports through NODE_PATH, runtimeHooks.mjs), then answers invocations sent over
// IPC, one at a time. Node built-ins only: nothing here comes from the repository.
//
//   argv: <taskRoot> <handler>      env: NODE_PATH, the function's variables, AWS_LAMBDA_*
//   → { type: "ready", initMs } | { type: "init-error", error }
//   ← { type: "invoke", id, payload, arn, deadline } → { type: "result", id, payload } | { type: "result", id, error }
// Payloads are JSON text, parsed and serialized here as the runtime does.

import { existsSync } from "node:fs";
import { register } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { randomUUID } from "node:crypto";

const [taskRoot, handlerName] = process.argv.slice(2);
const nodePath = (process.env.NODE_PATH ?? "").split(":").filter(Boolean);
register(new URL("./runtimeHooks.mjs", import.meta.url), { data: { nodePath } });

const describe = (e) => ({
  errorType: e?.name ?? "Error",
  errorMessage: e?.message ?? String(e),
  trace: String(e?.stack ?? "").split("\n"),
});

async function load() {
  const dot = handlerName.lastIndexOf(".");
  const file = handlerName.slice(0, dot),
    member = handlerName.slice(dot + 1);
  const path = [".mjs", ".js", ".cjs"].map((ext) => join(taskRoot, file + ext)).find((p) => existsSync(p));
  if (!path) throw Object.assign(new Error(`Cannot find module '${file}'`), { name: "Runtime.ImportModuleError" });
  let mod;
  try {
    mod = await import(pathToFileURL(path).href);
  } catch (e) {
    throw Object.assign(new Error(`${e?.name ?? "Error"}: ${e?.message ?? e}`), {
      name: "Runtime.ImportModuleError",
      stack: e?.stack,
    });
  }
  const fn = mod[member] ?? mod.default?.[member];
  if (typeof fn !== "function")
    throw Object.assign(new Error(`${file}.${member} is undefined or not exported`), {
      name: "Runtime.HandlerNotFound",
    });
  return fn;
}

const started = performance.now();
let handler;
try {
  handler = await load();
} catch (e) {
  process.send({ type: "init-error", error: describe(e) }, () => process.exit(1));
}
if (handler) {
  process.send({ type: "ready", initMs: performance.now() - started });
  process.on("message", async (msg) => {
    if (msg?.type !== "invoke") return;
    const context = {
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: "$LATEST",
      invokedFunctionArn: msg.arn,
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      awsRequestId: randomUUID(),
      getRemainingTimeInMillis: () => Math.max(0, msg.deadline - Date.now()),
      callbackWaitsForEmptyEventLoop: true,
    };
    try {
      const value = await handler(JSON.parse(msg.payload), context);
      process.send({ type: "result", id: msg.id, payload: JSON.stringify(value ?? null) });
    } catch (e) {
      process.send({ type: "result", id: msg.id, error: describe(e) });
    }
  });
}
