#!/usr/bin/env node
// Entry point of the `enkf` command: loads the TypeScript CLI through tsx's ESM loader.
import { register } from "tsx/esm/api";

// The AWS SDK warns once per thread that its releases after January 2027 need Node 22; the
// lockfile pins this one, so on Node 20 the warning only clutters the output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
// a reader that closes the pipe early (`enkf schema | head -1`) ends the command quietly
process.stdout.on("error", (e) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});
register();
const { main } = await import("../cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
