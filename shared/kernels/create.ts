// Chooses and builds the ensemble kernel a job asks for (compute.backend). "auto" takes onnx for
// network problems, else wasm, else the reference kernel, and says so in one line when it falls back.
// "gpu" is never chosen automatically: off a GPU its fallbacks are far slower than onnx.

import { availableParallelism } from "node:os";
import type { Problem } from "../problems/types.ts";
import { isNetworkProblem } from "../problems/network.ts";
import type { ComputeSpec, OptimizerSpec } from "../spec/job.ts";
import { gpuKernel, type GpuEnsembleKernel } from "./gpu.ts";
import { loadOrt, onnxKernel, type Ort } from "./onnx.ts";
import { referenceKernel } from "./reference.ts";
import { batchedKernel } from "./batched.ts";
import type { EnsembleKernel } from "./types.ts";

export class BackendError extends Error {
  override name = "BackendError";
}

/**
 * The kernel for the modified EnKF, or undefined for methods that evaluate the problem directly.
 * A kernel forms step 2–3's statistics of the paper (Haber, Lucka & Ruthotto 2018, eq. 3.6):
 * Q_j = F(θ + ω_j) − F(θ) for Ω = σZ regenerated from the draw, then Φ, QᵀWQ and Qᵀg, on the batch
 * each call names. Built without the ½α‖θ‖² term: the modified EnKF's reduction adds it (shardPartial.ts).
 *
 * @param problem the problem whose shape (model, K) the kernel is built for
 * @param optimizer the job's optimizer; only "modified-enkf" has a kernel
 * @param compute the job's compute options: `backend` ("auto", "onnx", "wasm", "gpu", "reference")
 * @param warn prints one line when "auto" falls back to a slower backend
 * @param opts.rngWorkers threads that draw Ω (default: one per core when there are two or more)
 * @throws BackendError when the backend cannot serve this problem or method
 *
 * @example
 * ```ts
 * const kernel = (await createKernel(problem, job.optimizer, job.compute, console.warn))!;
 * const draw = { sigma: 0.1, kind: "gaussian", seed: 7, iteration: 0 } as const;
 * const { phi, gram, rhs } = await kernel.statistics(theta, draw, problem.at(0)); // Φ, QᵀWQ (K×K), Qᵀg
 * await kernel.dispose();
 * ```
 */
export async function createKernel(
  problem: Problem,
  optimizer: OptimizerSpec,
  compute: ComputeSpec,
  warn: (line: string) => void,
  opts: { rngWorkers?: number } = {},
): Promise<EnsembleKernel | undefined> {
  const { backend } = compute;
  if (optimizer.method !== "modified-enkf") {
    if (backend === "onnx" || backend === "wasm" || backend === "gpu")
      throw new BackendError(
        `compute.backend "${backend}" serves the modified EnKF; method "${optimizer.method}" ` +
          `evaluates the problem directly (use "auto" or "reference")`,
      );
    return undefined;
  }
  const k = optimizer.ensembleSize;
  // a forward that only runs in batches (an ONNX graph of the user's) is its own backend
  if (problem.forwardBatch) {
    if (backend !== "auto" && backend !== "reference")
      throw new BackendError(
        `compute.backend "${backend}" runs the service's own networks; this problem's forward ` +
          `evaluates itself (use "auto")`,
      );
    return batchedKernel(problem, k);
  }
  if (backend === "reference") return referenceKernel(problem, k);
  // Ω is generated on one worker thread per core (bits do not depend on the split), unless the
  // caller already runs one kernel per core (the workflow's evaluate workers)
  const cores = availableParallelism();
  const rngWorkers = opts.rngWorkers ?? (cores >= 2 ? cores : 0);
  if (backend === "gpu") {
    if (!isNetworkProblem(problem) || problem.model.type !== "mlp")
      throw new BackendError(
        `compute.backend "gpu" runs MLP networks; this job's ` +
          `${isNetworkProblem(problem) ? `${problem.model.type} model` : `"${problem.kind}" problem`} ` +
          `needs "onnx" or "reference"`,
      );
    let kernel: GpuEnsembleKernel;
    try {
      kernel = await gpuKernel(problem, k, { rngWorkers });
    } catch (e) {
      throw new BackendError(`the gpu kernel cannot start: ${(e as Error).message.split("\n")[0]}`);
    }
    if (kernel.backend === "webasm" || kernel.backend === "cpu")
      warn(
        `gpu.js found no WebGL context (headless-gl missing or no display); the gpu kernel runs on ` +
          `its ${kernel.backend} fallback on the CPU, far slower than "onnx"`,
      );
    return kernel;
  }
  if (!isNetworkProblem(problem)) {
    if (backend !== "auto")
      throw new BackendError(
        `compute.backend "${backend}" needs a classification or regression problem; ` +
          `"${problem.kind}" runs on the reference kernel`,
      );
    return referenceKernel(problem, k);
  }
  // auto: native ONNX Runtime, else its WebAssembly build, else the reference kernel
  const engines: ("native" | "wasm")[] =
    backend === "onnx" ? ["native"] : backend === "wasm" ? ["wasm"] : ["native", "wasm"];
  const failures: string[] = [];
  for (const engine of engines) {
    let ort: Ort;
    try {
      ort = await loadOrt(engine, compute.threads);
    } catch (e) {
      failures.push(
        `${engine === "native" ? "onnxruntime-node" : "onnxruntime-web"}: ${(e as Error).message.split("\n")[0]}`,
      );
      continue;
    }
    if (failures.length > 0) warn(`${failures.join("; ")}; using the ${engine === "wasm" ? "wasm" : "onnx"} kernel`);
    const p = optimizer.perturbation;
    return onnxKernel(problem, k, {
      threads: compute.threads,
      engine,
      ort,
      rngWorkers,
      rank: typeof p === "object" ? p.rank : 0,
    });
  }
  if (backend !== "auto") throw new BackendError(`the ${backend} kernel cannot be loaded: ${failures.join("; ")}`);
  warn(`${failures.join("; ")}; using the reference kernel`);
  return referenceKernel(problem, k);
}
