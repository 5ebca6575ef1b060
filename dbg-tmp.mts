import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runLocalWorkflow } from "./functions/localEngine.ts";
import { localStore } from "./shared/store/localStore.ts";
import { prepareJob } from "./shared/workflow/steps.ts";
import { randomClassification } from "./test/support/synthetic.ts";
const dir = mkdtempSync(join(tmpdir(), "dbg-"));
await prepareJob(localStore(dir), { name: "s", problem: { type: "classification", data: { source: "csv", path: "x", label: "y" }, model: { type: "mlp", hidden: [4] } }, optimizer: { method: "modified-enkf", ensembleSize: 5, sigma: 0.05 }, stop: { maxIterations: 3 }, compute: { backend: "onnx" } }, randomClassification(100, 4, 3, 10, 1, 0), 4);
const t = performance.now();
try {
  console.log(await runLocalWorkflow({ job: { store: dir }, workers: 2, onEvent: (e) => { if (e.type.includes("Fail") || e.type.includes("Retr")) console.log(e.type, e.state?.name, JSON.stringify(e).slice(0, 300)); } }));
} catch (e) { console.log("ERR", (e as Error).message.slice(0, 300)); }
console.log(((performance.now() - t) / 1000).toFixed(1), "s");
