// Worker side of the perturbation pool: fills its share of Ω's member rows (and packs those
// members) in shared memory.

import { parentPort } from "node:worker_threads";
import type { EnsembleDraw } from "../enkf/ensembleStatistics.ts";
import { fillMembers } from "./fillMembers.ts";
import type { PackJob } from "./perturbationPool.ts";

interface FillRequest { omega: Float64Array; n: number; k: number; from: number; to: number; draw: EnsembleDraw; pack?: PackJob }

parentPort!.on("message", (req: FillRequest) => {
  fillMembers(req.draw, req.omega, req.n, req.k, req.from, req.to, req.pack);
  parentPort!.postMessage("done");
});
