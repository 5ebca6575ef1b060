// The onnx kernel: ONNX Runtime runs one graph (onnxGraph.ts) over all K + 1 members per
// iteration: θ and θ + ω_j, with ω_j regenerated from the seed. Member 0 gives F(θ); the graph
// itself forms Q_j = F(θ+ω_j) − F(θ) in float64 and returns only Φ, QᵀWQ and Qᵀg (natively; the
// WebAssembly engine returns logits and the loss forms the statistics in JS). The same code
// serves the native engine (onnxruntime-node) and the portable one (onnxruntime-web's WebAssembly
// backend). Ω is not kept: the update d = Σ s_j δ_j is formed from the packed members themselves
// (δ_j = member j − member 0, the perturbations the forward evaluated), and the ½α‖θ‖² terms
// regenerate Ω in slices.

import type { EnsembleDraw } from "../math/perturbation.ts";
import { perturbationPool } from "./perturbationPool.ts";
import { checkWorkspace } from "../math/memory.ts";
import type { NetworkProblem } from "../problems/network.ts";
import { regularizationTerm } from "../problems/objective.ts";
import { addRegeneratedRegularization } from "./regularization.ts";
import { modelInputs } from "../models/model.ts";
import { onnxAdapter } from "./onnxModels.ts";
import type { PackedLayer } from "./pack.ts";
import { gatherChunk, logitStatistics } from "./logitStatistics.ts";
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
  /** bytes of activations one ONNX run may hold; larger batches run in sample chunks (default 256 MiB) */
  memoryBudgetBytes?: number;
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
  const model = problem.model;
  const adapter = onnxAdapter(model);
  const n = problem.dimension, J = k + 1, c = model.outputs, d = modelInputs(model);
  // the packed members (float32), twice where worker threads fill a shared copy
  checkWorkspace("the onnx ensemble workspace (the K + 1 packed members in float32)", J * n, "reduce optimizer.ensembleSize or the model size");
  const sessionOptions = engine === "wasm"
    ? { executionProviders: ["wasm"], graphOptimizationLevel: "all" as const }
    : {
      graphOptimizationLevel: "all" as const,
      executionMode: "sequential" as const,
      ...(opts.threads ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1 } : {}),
      // no spin-waiting between runs: the cores go to the RNG workers
      extra: { session: { intra_op: { allow_spinning: "0" } } },
    };
  // Natively the ensemble graph returns the statistics (float64 GEMMs are fast there); the
  // WebAssembly build is slow at float64, so there the graph returns logits and JS forms the
  // statistics. The forward-only graph serves line-search trials.
  const inGraph = engine === "native";
  const statsSession = await ort.InferenceSession.create(adapter.graph(J, inGraph ? problem.loss.name : undefined), sessionOptions);
  const forwardSession = await ort.InferenceSession.create(adapter.graph(1), sessionOptions);
  // sample chunks keep a run's activations inside the memory budget (about 3 live copies per layer)
  const budget = opts.memoryBudgetBytes ?? 256 * 2 ** 20;
  const chunkRows = Math.max(1, Math.floor(budget / (3 * 4 * adapter.activationsPerRow(J))));
  const shared = (opts.rngWorkers ?? 0) > 0;
  const ensemble = adapter.allocate(J, shared);
  // ONNX Runtime does not take SharedArrayBuffer-backed tensors: the feed is a plain copy
  const ensembleFeed = shared ? adapter.allocate(J, false) : ensemble;
  const single = adapter.allocate(1, false);
  const pool = perturbationPool(opts.rngWorkers ?? 0);
  const gram = new Float64Array(k * k), rhs = new Float64Array(k);
  // the statistics graph also yields all members' logits; fetching only these saves copying them
  const statisticsOutputs = ["gram", "rhs", "phi", "theta_logits"];
  const timings = emptyTimings();
  const now = () => performance.now() / 1000;

  type Feeds = Record<string, import("onnxruntime-common").Tensor>;
  /** The member-parameter inputs of the graph. */
  function paramFeeds(packed: PackedLayer[]): Feeds {
    const params: Feeds = {};
    packed.forEach((p, l) => {
      params[adapter.inputNames[1 + 2 * l]] = new ort.Tensor("float32", p.weights, p.weightDims);
      params[adapter.inputNames[2 + 2 * l]] = new ort.Tensor("float32", p.bias, p.biasDims);
    });
    return params;
  }

  /** Runs `session` over the current batch in sample chunks; `each` receives every chunk's outputs. */
  async function runChunks(session: Awaited<ReturnType<Ort["InferenceSession"]["create"]>>, packed: PackedLayer[], withTargets: boolean, each: (out: Feeds, r0: number, rows: number, total: number) => void, fetches?: string[]): Promise<number> {
    const { x, rows: total, targets } = problem.batch();
    const params = paramFeeds(packed);
    const scale = new ort.Tensor("float64", Float64Array.of(problem.lossScale), []);
    for (let r0 = 0; r0 < total; r0 += chunkRows) {
      const rows = Math.min(chunkRows, total - r0);
      const f: Feeds = { ...params, X: new ort.Tensor("float32", x.subarray(r0 * d, (r0 + rows) * d), adapter.xDims(rows)) };
      if (withTargets) {
        f.Y = new ort.Tensor("float32", targets.subarray(r0 * c, (r0 + rows) * c), [rows, c]);
        f.scale = scale;
      }
      const t = now();
      const out = fetches ? await session.run(f, fetches) : await session.run(f);
      timings.forward += now() - t;
      each(out, r0, rows, total);
    }
    return total;
  }

  const gather = (all: Float32Array, chunk: Float32Array, members: number, r0: number, rows: number, total: number) => gatherChunk(all, chunk, members, c, r0, rows, total);
  const fromLogits = inGraph ? undefined : logitStatistics(k, Math.min(chunkRows, problem.batch().rows) * c);

  return {
    name: engine === "wasm" ? "wasm" : "onnx",
    k,
    timings,
    async statistics(theta: Float64Array, draw: EnsembleDraw) {
      // Ω and the K perturbed members are generated and packed together (on the pool's threads)
      let t = now();
      await pool.fill(draw, k, { model, theta, packed: ensemble });
      timings.rng += now() - t;
      if (ensembleFeed !== ensemble) {
        t = now();
        ensembleFeed.forEach((p, l) => { p.weights.set(ensemble[l].weights); p.bias.set(ensemble[l].bias); });
        timings.pack += now() - t;
      }
      let phi = 0;
      gram.fill(0);
      rhs.fill(0);
      // F(θ) over the batch, for the accuracy
      const f0 = new Float64Array(problem.batch().rows * c);
      if (inGraph) {
        await runChunks(statsSession, ensembleFeed, true, (out, r0, chunk, total) => {
          const g = out.gram.data as Float64Array, b = out.rhs.data as Float64Array;
          for (let i = 0; i < g.length; i++) gram[i] += g[i];
          for (let i = 0; i < b.length; i++) rhs[i] += b[i];
          phi += (out.phi.data as Float64Array)[0];
          f0.set(out.theta_logits.data as Float32Array, r0 * c);
        }, statisticsOutputs);
      } else {
        // each sample chunk's logits [J, rows, C] give that chunk's share of the statistics
        await runChunks(statsSession, ensembleFeed, false, (out, r0, chunk) => {
          const t = now();
          phi += fromLogits!.accumulate(problem.rowsLoss(r0, chunk), out.logits.data as Float32Array, chunk * c, f0.subarray(r0 * c), gram, rhs);
          timings.gram += now() - t;
        });
      }
      const accuracy = problem.batchAccuracy(f0);
      if (alpha > 0) {
        addRegeneratedRegularization(draw, k, n, theta, alpha, gram, rhs);
        phi += regularizationTerm(theta, alpha);
      }
      return { phi, gram, rhs, evaluations: J, ...(accuracy !== undefined ? { accuracy } : {}) };
    },
    direction(s, out) {
      const t = now();
      adapter.direction(ensemble, J, s, out);
      timings.update += now() - t;
    },
    async objective(theta) {
      adapter.pack(single, 1, 0, theta);
      const { rows } = problem.batch();
      const logits = new Float32Array(rows * c);
      await runChunks(forwardSession, single, false, (out, r0, chunk, total) => gather(logits, out.logits.data as Float32Array, 1, r0, chunk, total));
      return problem.loss.value(Float64Array.from(logits)) + regularizationTerm(theta, alpha);
    },
    async predict(theta, x, rows) {
      adapter.pack(single, 1, 0, theta);
      const out = await forwardSession.run({ ...paramFeeds(single), X: new ort.Tensor("float32", x.subarray(0, rows * d), adapter.xDims(rows)) });
      return out.logits.data as Float32Array;
    },
    async dispose() {
      await statsSession.release();
      await forwardSession.release();
      await pool.close();
    },
  };
}
