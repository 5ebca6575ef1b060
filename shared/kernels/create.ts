// Chooses and builds the ensemble kernel a job asks for (compute.backend). "auto" takes onnx for
// network problems when onnxruntime-node loads, and says so in one line when it falls back.

import type { Problem } from "../problems/types.ts";
import { isNetworkProblem } from "../problems/network.ts";
import type { ComputeSpec, OptimizerSpec } from "../spec/job.ts";
import { onnxKernel } from "./onnx.ts";
import { referenceKernel } from "./reference.ts";
import type { EnsembleKernel } from "./types.ts";

export class BackendError extends Error {
  override name = "BackendError";
}

/** The kernel for the modified EnKF, or undefined for methods that evaluate the problem directly. */
export async function createKernel(problem: Problem, optimizer: OptimizerSpec, compute: ComputeSpec, alpha: number, warn: (line: string) => void): Promise<EnsembleKernel | undefined> {
  if (optimizer.method !== "modified-enkf") {
    if (compute.backend === "onnx") throw new BackendError(`compute.backend "onnx" serves the modified EnKF; method "${optimizer.method}" evaluates the problem directly (use "auto" or "reference")`);
    return undefined;
  }
  const k = optimizer.ensembleSize;
  if (compute.backend === "reference") return referenceKernel(problem, k, alpha);
  if (!isNetworkProblem(problem)) {
    if (compute.backend === "onnx") throw new BackendError(`compute.backend "onnx" needs a classification or regression problem; "${problem.kind}" runs on the reference kernel`);
    return referenceKernel(problem, k, alpha);
  }
  let ort: typeof import("onnxruntime-node");
  try {
    ort = await import("onnxruntime-node");
  } catch (e) {
    const why = (e as Error).message.split("\n")[0];
    if (compute.backend === "onnx") throw new BackendError(`onnxruntime-node cannot be loaded: ${why}`);
    warn(`onnxruntime-node is not available here (${why}); using the reference kernel`);
    return referenceKernel(problem, k, alpha);
  }
  return onnxKernel(problem, k, alpha, { threads: compute.threads, ort });
}
