// Worker entry of a dry run (dryRun.ts): worker threads do not inherit the parent's TypeScript
// loader, so register tsx here, then load the worker proper.
import { register } from "tsx/esm/api";

register();
await import("./dryRunWorkerMain.ts");
