// The onnx kernel: ONNX Runtime runs one graph (onnxGraph.ts) over all K + 1 members per
// iteration: θ and θ + ω_j, with ω_j regenerated from the seed. The same code serves the native
// engine (onnxruntime-node) and the portable one (onnxruntime-web's WebAssembly backend). Member 0 gives F(θ); the
// differences Q_j = F(θ+ω_j) − F(θ) go to the loss in float64 for QᵀWQ and Qᵀg. Ω (K×n) is kept
// for the update d = Ωs.

import type { EnsembleDraw } from "../enkf/ensembleStatistics.ts";
import { perturbationPool } from "./perturbationPool.ts";
import { checkWorkspace } from "../enkf/memory.ts";
import { addRegularization, combineRows } from "../math/gram.ts";
import type { NetworkProblem } from "../problems/network.ts";
import { mlpEnsembleInputNames, mlpEnsembleModel } from "./onnxGraph.ts";
import { allocatePacked, packMember, type PackedLayer } from "./pack.ts";
import { emptyTimings, type EnsembleKernel } from "./types.ts";

/** The part of the ONNX Runtime API the kernel uses; onnxruntime-node and onnxruntime-web both have it. */
export type Ort = Pick<typeof import("onnxruntime-common"), "InferenceSession" | "Tensor">;

export interface OnnxKernelOptions {
  /** intra-op threads (default: ONNX Runtime's choice) */
  threads?: number;
  /** the engine: "native" (onnxruntime-node, default) or "wasm" (onnxruntime-web) */
  engine?: "native" | "wasm";
  /** the runtime module, when the caller already loaded it */
  ort?: Ort;
  /** worker threads that generate Ω (default 0: on the calling thread) */
  rngWorkers?: number;
}

/** Loads the ONNX Runtime module of an engine (throws if it cannot be loaded here). */
export async function loadOrt(engine: "native" | "wasm", threads?: number): Promise<Ort> {
  if (engine === "native") return (await import("onnxruntime-node")) as unknown as Ort;
  const web = await import("onnxruntime-web");
  web.env.wasm.numThreads = threads ?? 1;
  return web as unknown as Ort;
}

export async function onnxKernel(problem: NetworkProblem, k: number, alpha = 0, opts: OnnxKernelOptions = {}): Promise<EnsembleKernel> {
  const engine = opts.engine ?? "native";
  const ort: Ort = opts.ort ?? (await loadOrt(engine, opts.threads));
  const spec = problem.model;
  const n = problem.dimension, J = k + 1, c = spec.outputs;
  checkWorkspace("the onnx ensemble workspace (Ω in float64 and the packed members in float32)", k * n + J * n, "reduce optimizer.ensembleSize or the model size");
  const session = await ort.InferenceSession.create(mlpEnsembleModel(spec), engine === "wasm"
    ? { executionProviders: ["wasm"], graphOptimizationLevel: "all" }
    : {
      graphOptimizationLevel: "all",
      executionMode: "sequential",
      ...(opts.threads ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1 } : {}),
      // no spin-waiting between runs: the cores go to the RNG workers and the Gram
      extra: { session: { intra_op: { allow_spinning: "0" } } },
    });
  const names = mlpEnsembleInputNames(spec);
  const ensemble = allocatePacked(spec, J);
  const single = allocatePacked(spec, 1);
  const pool = perturbationPool(opts.rngWorkers ?? 0);
  const omega = new Float64Array(pool.workers > 0 ? new SharedArrayBuffer(8 * k * n) : new ArrayBuffer(8 * k * n));
  const member = new Float64Array(n);
  const gram = new Float64Array(k * k), rhs = new Float64Array(k);
  const timings = emptyTimings();
  const now = () => performance.now() / 1000;

  async function run(packed: PackedLayer[]): Promise<{ logits: Float32Array; rows: number }> {
    const { x, rows } = problem.batch();
    const feeds: Record<string, import("onnxruntime-common").Tensor> = { X: new ort.Tensor("float32", x.subarray(0, rows * spec.inputs), [rows, spec.inputs]) };
    packed.forEach((p, l) => {
      feeds[names[1 + 2 * l]] = new ort.Tensor("float32", p.weights, p.weightDims);
      feeds[names[2 + 2 * l]] = new ort.Tensor("float32", p.bias, p.biasDims);
    });
    const t = now();
    const out = await session.run(feeds);
    timings.forward += now() - t;
    return { logits: out.logits.data as Float32Array, rows };
  }

  function regularization(theta: Float64Array): number {
    let s = 0;
    for (let i = 0; i < n; i++) s += theta[i] * theta[i];
    return 0.5 * alpha * s;
  }

  return {
    name: engine === "wasm" ? "wasm" : "onnx",
    k,
    timings,
    async statistics(theta: Float64Array, draw: EnsembleDraw) {
      let t = now();
      await pool.fill(draw, omega, n, k);
      timings.rng += now() - t;
      t = now();
      packMember(spec, ensemble, J, 0, theta);
      for (let j = 0; j < k; j++) {
        const w = omega.subarray(j * n, (j + 1) * n);
        for (let i = 0; i < n; i++) member[i] = theta[i] + w[i];
        packMember(spec, ensemble, J, j + 1, member);
      }
      timings.pack += now() - t;
      const { logits, rows } = await run(ensemble);
      t = now();
      const len = rows * c;
      const f0 = Float64Array.from(logits.subarray(0, len));
      const q = new Float64Array(k * len);
      for (let j = 0; j < k; j++) {
        const src = (j + 1) * len, dst = j * len;
        for (let r = 0; r < len; r++) q[dst + r] = logits[src + r] - f0[r];
      }
      gram.fill(0);
      rhs.fill(0);
      let phi = problem.loss.gaussNewton(f0, q, k, gram, rhs);
      if (alpha > 0) {
        addRegularization(omega, k, n, theta, alpha, gram, rhs);
        phi += regularization(theta);
      }
      timings.gram += now() - t;
      return { phi, gram, rhs, evaluations: J };
    },
    direction(s, out) {
      const t = now();
      combineRows(omega, k, n, s, out);
      timings.update += now() - t;
    },
    async objective(theta) {
      packMember(spec, single, 1, 0, theta);
      const { logits, rows } = await run(single);
      return problem.loss.value(Float64Array.from(logits.subarray(0, rows * c))) + (alpha > 0 ? regularization(theta) : 0);
    },
    async dispose() {
      await session.release();
      await pool.close();
    },
  };
}
