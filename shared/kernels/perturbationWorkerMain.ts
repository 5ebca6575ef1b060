// Worker side of the perturbation pool: fills its share of Ω's member rows in shared memory.

import { parentPort } from "node:worker_threads";
import { perturbation, type EnsembleDraw } from "../enkf/ensembleStatistics.ts";

interface FillRequest { buffer: SharedArrayBuffer; n: number; from: number; to: number; draw: EnsembleDraw }

parentPort!.on("message", (req: FillRequest) => {
  const omega = new Float64Array(req.buffer);
  for (let j = req.from; j < req.to; j++) perturbation(req.draw, j, omega.subarray(j * req.n, (j + 1) * req.n));
  parentPort!.postMessage("done");
});
