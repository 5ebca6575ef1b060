// The gpu kernel: gpu.js runs the batched ensemble forward of an MLP for all K + 1 members
// (θ and θ + ω_j, ω_j regenerated from the seed) as one gpu.js kernel per layer, thread
// (unit, row, member), in float32. Layer 0 reads the shared input batch; later layers read the
// previous layer's output in place (textures on a GL backend). The logits come back and the loss
// forms QᵀWQ and Qᵀg in float64 (logitStatistics.ts), as in the WebAssembly ONNX engine.
// gpu.js picks its backend: headless-gl (WebGL on a GPU) where a context exists, else its
// WebAssembly backend, else plain JavaScript ("cpu", the fallback CI runs). As in the onnx kernel,
// Ω is not kept: the update is formed from the packed members. MLP models only.

import type { EnsembleDraw } from "../math/perturbation.ts";
import { checkWorkspace } from "../math/memory.ts";
import { GELU_C, type Activation } from "../models/activations.ts";
import { mlpLayout, type MlpSpec } from "../models/mlp.ts";
import type { NetworkProblem } from "../problems/network.ts";
import { logitStatistics } from "./logitStatistics.ts";
import { allocatePacked, packedDirection, packMember, type PackedLayer } from "./pack.ts";
import { perturbationPool } from "./perturbationPool.ts";
import { emptyTimings, type EnsembleKernel } from "./types.ts";

type GpuJs = typeof import("gpu.js");
type GpuInstance = InstanceType<GpuJs["GPU"]>;
type LayerKernel = import("gpu.js").IKernelRunShortcut;

/** "gpu": the best backend gpu.js finds here (headlessgl, then webasm); "cpu": its JavaScript fallback. */
export type GpuMode = "gpu" | "cpu";

export interface GpuKernelOptions {
  mode?: GpuMode;
  /** worker threads that generate Ω (default 0: on the calling thread) */
  rngWorkers?: number;
  /** bytes of activations one forward may hold; larger batches run in sample chunks (default 256 MiB) */
  memoryBudgetBytes?: number;
}

export interface GpuEnsembleKernel extends EnsembleKernel<NetworkProblem> {
  /** the gpu.js backend that runs the forward: headlessgl, webgl2, webgl, webasm or cpu */
  readonly backend: string;
}

/** Loads gpu.js (a CommonJS package) and returns its GPU class. */
export async function loadGpuJs(): Promise<GpuJs["GPU"]> {
  const mod = (await import("gpu.js")) as GpuJs & { default?: GpuJs };
  return mod.GPU ?? mod.default!.GPU;
}

/** gpu.js's kernel classes by the backend names its modes use */
const BACKENDS: Record<string, string> = {
  HeadlessGLKernel: "headlessgl",
  WebGL2Kernel: "webgl2",
  WebGLKernel: "webgl",
  WebGPUKernel: "webgpu",
  WebAssemblyKernel: "webasm",
  CPUKernel: "cpu",
};

/** The GPU backends index tensors with float32 coordinates: exact only below 2^24. */
const GL_INDEX_LIMIT = 2 ** 24;

function activationSource(kind: Activation | "none"): string {
  switch (kind) {
    case "none":
      return "s";
    case "tanh":
      return "Math.tanh(s)";
    case "relu":
      return "Math.max(s, 0)";
    case "sigmoid":
      return "1 / (1 + Math.exp(-s))";
    case "gelu":
      return `0.5 * s * (1 + Math.tanh(${GELU_C} * (s + 0.044715 * s * s * s)))`;
  }
}

/** Layer 0: X is the shared input batch [rows, ins]; W[ins, members·outs]; B[members·outs]. */
const firstLayerSource = (act: string) => `function (X, W, B) {
  const o = this.thread.x;
  const r = this.thread.y;
  const j = this.thread.z;
  const col = j * this.constants.outs + o;
  let s = B[col];
  for (let i = 0; i < this.constants.ins; i++) {
    s += X[r * this.constants.ins + i] * W[i * this.constants.stride + col];
  }
  return ${act};
}`;

/** Layer l > 0: A is the previous layer's output [members][rows][ins]; W[members, ins, outs]; B[members·outs]. */
const laterLayerSource = (act: string) => `function (A, W, B) {
  const o = this.thread.x;
  const r = this.thread.y;
  const j = this.thread.z;
  let s = B[j * this.constants.outs + o];
  const base = j * this.constants.ins * this.constants.outs + o;
  for (let i = 0; i < this.constants.ins; i++) {
    s += A[j][r][i] * W[base + i * this.constants.outs];
  }
  return ${act};
}`;

/** One gpu.js kernel per layer for `members` members; intermediate outputs stay on the device. */
function buildForward(gpu: GpuInstance, spec: MlpSpec, members: number): LayerKernel[] {
  const layers = mlpLayout(spec).layers;
  return layers.map(({ inputs, outputs }, l) => {
    const last = l === layers.length - 1;
    const act = activationSource(last ? "none" : spec.activation);
    return gpu.createKernel(l === 0 ? firstLayerSource(act) : laterLayerSource(act), {
      output: [outputs, 1, members],
      constants: { ins: inputs, outs: outputs, stride: members * outputs },
      dynamicOutput: true,
      dynamicArguments: true,
      pipeline: !last,
      precision: "single",
      tactic: "precision",
    });
  });
}

type Nested = ArrayLike<ArrayLike<ArrayLike<number>>>;

export async function gpuKernel(
  problem: NetworkProblem,
  k: number,
  opts: GpuKernelOptions = {},
): Promise<GpuEnsembleKernel> {
  if (problem.model.type !== "mlp")
    throw new Error(`the gpu kernel runs MLP models; use the onnx kernel for the ${problem.model.type}`);
  const model = problem.model;
  const GPU = await loadGpuJs();
  const gpu = new GPU({ mode: opts.mode ?? "gpu" });
  const backend = BACKENDS[(gpu.Kernel as unknown as { name: string }).name] ?? String(gpu.mode);
  const n = problem.dimension,
    J = k + 1,
    c = model.outputs,
    d = model.inputs;
  const widest = Math.max(c, ...model.hidden);
  const budget = opts.memoryBudgetBytes ?? 256 * 2 ** 20;
  const chunkRows = Math.max(1, Math.floor(budget / (2 * 4 * J * widest)));
  if (backend !== "cpu" && backend !== "webasm") {
    const largest = Math.max(
      ...mlpLayout(model).layers.map((l) => J * l.inputs * l.outputs),
      chunkRows * Math.max(d, J * widest),
    );
    if (largest >= GL_INDEX_LIMIT)
      throw new Error(
        `the gpu kernel's largest tensor has ${largest} elements; its ${backend} backend indexes ` +
          `exactly only below 2^24: reduce optimizer.ensembleSize or the model`,
      );
  }
  // the packed members (float32), twice where worker threads fill a shared copy
  checkWorkspace(
    "the gpu ensemble workspace (the K + 1 packed members in float32)",
    J * n,
    "reduce optimizer.ensembleSize or the model size",
  );
  const ensembleLayers = buildForward(gpu, model, J);
  const singleLayers = buildForward(gpu, model, 1);
  const pool = perturbationPool(opts.rngWorkers ?? 0);
  const shared = pool.workers > 0;
  const ensemble = allocatePacked(model, J, shared);
  const one = allocatePacked(model, 1, false);
  const gram = new Float64Array(k * k),
    rhs = new Float64Array(k);
  // one chunk's logits: J members over a batch chunk, or one member over a prediction chunk
  const chunkLogits = new Float32Array(J * chunkRows * c);
  const fromLogits = logitStatistics(k, chunkRows * c);
  const timings = emptyTimings();
  const now = () => performance.now() / 1000;

  /** Runs the forward of `members` packed members over rows of x in sample chunks; `each`
   *  receives every chunk's logits, member-major [members, chunk, C]. */
  function forward(
    layers: LayerKernel[],
    packed: PackedLayer[],
    members: number,
    x: Float32Array,
    rows: number,
    each: (logits: Float32Array, r0: number, chunk: number) => void,
  ): void {
    for (let r0 = 0; r0 < rows; r0 += chunkRows) {
      const t = now();
      const chunk = Math.min(chunkRows, rows - r0);
      let a: unknown = x.subarray(r0 * d, (r0 + chunk) * d);
      layers.forEach((layer, l) => {
        layer.setOutput([l === layers.length - 1 ? c : model.hidden[l], chunk, members]);
        a = layer(a as Float32Array, packed[l].weights, packed[l].bias);
      });
      const result = a as Nested;
      const logits = chunkLogits.subarray(0, members * chunk * c);
      for (let j = 0; j < members; j++) {
        const plane = result[j];
        for (let r = 0; r < chunk; r++) logits.set(plane[r] as Float32Array, (j * chunk + r) * c);
      }
      timings.forward += now() - t;
      each(logits, r0, chunk);
    }
  }

  /** F(θ) for rows of x (one member). */
  function single(theta: Float64Array, x: Float32Array, rows: number): Float32Array {
    packMember(model, one, 1, 0, theta);
    const f = new Float32Array(rows * c);
    forward(singleLayers, one, 1, x, rows, (logits, r0) => f.set(logits, r0 * c));
    return f;
  }

  return {
    name: "gpu",
    members: { precision: "float32", factoredRank: 0 },
    backend,
    k,
    timings,
    async statistics(theta: Float64Array, draw: EnsembleDraw, on: NetworkProblem) {
      let t = now();
      await pool.fill(draw, k, { model, theta, packed: ensemble });
      timings.rng += now() - t;
      const { x, rows } = on.batch();
      const f0 = new Float64Array(rows * c);
      let phi = 0;
      gram.fill(0);
      rhs.fill(0);
      // each sample chunk's logits give that chunk's share of the statistics
      forward(ensembleLayers, ensemble, J, x, rows, (logits, r0, chunk) => {
        const t = now();
        phi += fromLogits.accumulate(on.rowsLoss(r0, chunk), logits, chunk * c, f0.subarray(r0 * c), gram, rhs);
        timings.gram += now() - t;
      });
      const accuracy = on.batchAccuracy(f0);
      return { phi, gram, rhs, evaluations: J, ...(accuracy !== undefined ? { accuracy } : {}) };
    },
    direction(s, out) {
      const t = now();
      packedDirection(model, ensemble, J, s, out);
      timings.update += now() - t;
    },
    async objective(theta, on) {
      const { x, rows } = on.batch();
      return on.loss.value(Float64Array.from(single(theta, x, rows)));
    },
    async predict(theta, x, rows) {
      return single(theta, x, rows);
    },
    async dispose() {
      await pool.close();
      gpu.destroy();
    },
  };
}
