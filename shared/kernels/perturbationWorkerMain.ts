// Worker side of the perturbation pool: generates and packs its share of the perturbed members
// in shared memory.

import { parentPort } from "node:worker_threads";
import type { EnsembleDraw } from "../math/perturbation.ts";
import { fillMembers } from "./fillMembers.ts";
import type { PackJob } from "./perturbationPool.ts";

interface FillRequest {
  n: number;
  k: number;
  from: number;
  to: number;
  draw: EnsembleDraw;
  pack: PackJob;
}

parentPort!.on("message", (req: FillRequest) => {
  fillMembers(req.draw, req.n, req.k, req.from, req.to, req.pack);
  parentPort!.postMessage("done");
});
parentPort!.postMessage("ready");
