// The ensemble kernel a worker uses for its shard, from the job's compute.backend: onnx (auto:
// onnx, else the reference kernel where ONNX Runtime cannot load), wasm, gpu or reference. Each
// worker runs one shard at a time, so the kernels get one thread.

import { gpuKernel } from "../shared/kernels/gpu.ts";
import { onnxKernel } from "../shared/kernels/onnx.ts";
import { referenceKernel } from "../shared/kernels/reference.ts";
import type { EnsembleKernel } from "../shared/kernels/types.ts";
import type { NetworkProblem } from "../shared/problems/network.ts";
import type { JobSpec } from "../shared/spec/job.ts";

export function kernelFor(backend: JobSpec["compute"]["backend"]): (problem: NetworkProblem, k: number) => Promise<EnsembleKernel> {
  return async (problem, k) => {
    switch (backend) {
      case "reference": return referenceKernel(problem, k);
      case "gpu": return gpuKernel(problem, k);
      case "wasm": return onnxKernel(problem, k, 0, { threads: 1, engine: "wasm" });
      case "onnx": return onnxKernel(problem, k, 0, { threads: 1 });
      case "auto":
        try {
          return await onnxKernel(problem, k, 0, { threads: 1 });
        } catch {
          return referenceKernel(problem, k);
        }
    }
  };
}
