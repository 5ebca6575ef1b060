// The onnx kernel: ONNX Runtime runs one graph (onnxGraph.ts) over all K + 1 members per
// iteration: θ and θ + ω_j, with ω_j regenerated from the seed. Member 0 gives F(θ); the graph
// itself forms Q_j = F(θ+ω_j) − F(θ) and returns only the statistics: QᵀWQ as the GEMM's blocks on
// and above the diagonal (float64, or float32 at large K: statisticsPrecision), summed over sample
// chunks here in float64, and Qᵀg and Φ in float64 (natively; the WebAssembly engine, slow at
// float64, returns the Gram and Qᵀg in float32 and Φ is formed here from F(θ)). The same code serves the native engine
// (onnxruntime-node) and the
// portable one (onnxruntime-web's WebAssembly backend). With low-rank draws (options.rank) an
// MLP's layer 0 is fed as factors, X·W0 + (X·A)·S, not as K dense copies. Ω is not kept: the
// update d = Σ s_j δ_j is formed from the packed members themselves (δ_j = member j − member 0,
// or the factors, the perturbations the forward evaluated), and the ½α‖θ‖² terms come from the
// draw (regularization.ts).

import type { EnsembleDraw } from "../math/perturbation.ts";
import { perturbationPool } from "./perturbationPool.ts";
import { checkWorkspace } from "../math/memory.ts";
import type { NetworkProblem } from "../problems/network.ts";
import { modelInputs } from "../models/model.ts";
import { mlpLayout } from "../models/mlp.ts";
import { factoredRank, onnxAdapter } from "./onnxModels.ts";
import type { PackedLayer } from "./pack.ts";
import { gatherChunk } from "./logitStatistics.ts";
import { gramBlockRanges } from "./onnxGraph.ts";
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
  /** the rank of the job's low-rank draws (optimizer.perturbation), 0 or absent for full draws */
  rank?: number;
}

/** Loads the ONNX Runtime module of an engine (throws if it cannot be loaded here). */
export async function loadOrt(engine: "native" | "wasm", threads?: number): Promise<Ort> {
  if (engine === "native") return (await import("onnxruntime-node")) as unknown as Ort;
  const web = await import("onnxruntime-web");
  web.env.wasm.numThreads = threads ?? 1;
  return web as unknown as Ort;
}

export async function onnxKernel(
  problem: NetworkProblem,
  k: number,
  opts: OnnxKernelOptions = {},
): Promise<EnsembleKernel<NetworkProblem>> {
  const started = performance.now();
  const engine = opts.engine ?? "native";
  const ort: Ort = opts.ort ?? (await loadOrt(engine, opts.threads));
  const model = problem.model;
  const rank = factoredRank(model, opts.rank ?? 0);
  const adapter = onnxAdapter(model, rank);
  const n = problem.dimension,
    J = k + 1,
    c = model.outputs,
    d = modelInputs(model);
  // float32 values of the packed members: J dense copies, or layer 0 as θ's W0 plus J members' factors
  const l0 = model.type === "mlp" ? mlpLayout(model).layers[0] : null;
  const packedValues =
    rank > 0 && l0
      ? J * (n - l0.inputs * l0.outputs) + l0.inputs * l0.outputs + J * rank * (l0.inputs + l0.outputs)
      : J * n;
  // the packed members (float32), twice where worker threads fill a shared copy
  checkWorkspace(
    "the onnx ensemble workspace (the K + 1 packed members in float32)",
    packedValues,
    "reduce optimizer.ensembleSize or the model size",
  );
  const sessionOptions =
    engine === "wasm"
      ? { executionProviders: ["wasm"], graphOptimizationLevel: "all" as const }
      : {
          graphOptimizationLevel: "all" as const,
          executionMode: "sequential" as const,
          ...(opts.threads ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1 } : {}),
          // no spin-waiting between runs: the cores go to the RNG workers
          extra: { session: { intra_op: { allow_spinning: "0" } } },
        };
  // The ensemble graph returns the statistics, in float64 natively and in float32 on the
  // WebAssembly build (slow at float64). The forward-only graph serves line-search trials.
  const inGraph = engine === "native";
  const statsSession = await ort.InferenceSession.create(
    adapter.graph(J, { loss: problem.loss.name, k, doubles: inGraph }),
    sessionOptions,
  );
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
  const gram = new Float64Array(k * k),
    rhs = new Float64Array(k);
  const blocks = gramBlockRanges(k);
  // the statistics graph also yields all members' logits; fetching only these saves copying them
  const statisticsOutputs = [...blocks.map((_, a) => `gram_${a}`), "rhs", ...(inGraph ? ["phi"] : []), "theta_logits"];
  const scaleFeed = (scale: number) =>
    inGraph
      ? new ort.Tensor("float64", Float64Array.of(scale), [])
      : new ort.Tensor("float32", Float32Array.of(scale), []);
  const timings = emptyTimings();
  const now = () => performance.now() / 1000;
  await pool.ready;
  const startupSeconds = (performance.now() - started) / 1000;

  type Feeds = Record<string, import("onnxruntime-common").Tensor>;
  /** The member-parameter inputs of the graph. */
  function paramFeeds(packed: PackedLayer[]): Feeds {
    const params: Feeds = {};
    packed.forEach((p, l) => {
      params[`W${l}`] = new ort.Tensor("float32", p.weights, p.weightDims);
      params[`B${l}`] = new ort.Tensor("float32", p.bias, p.biasDims);
      if (p.factors) {
        params[`A${l}`] = new ort.Tensor("float32", p.factors.a, p.factors.aDims);
        params[`S${l}`] = new ort.Tensor("float32", p.factors.s, p.factors.sDims);
      }
    });
    return params;
  }

  /** Runs `session` over the batch of `on` in sample chunks; `each` receives every chunk's outputs. */
  async function runChunks(
    on: NetworkProblem,
    session: Awaited<ReturnType<Ort["InferenceSession"]["create"]>>,
    packed: PackedLayer[],
    withTargets: boolean,
    each: (out: Feeds, r0: number, rows: number, total: number) => void,
    fetches?: string[],
  ): Promise<number> {
    const { x, rows: total, targets } = on.batch();
    const params = paramFeeds(packed);
    const scale = withTargets ? scaleFeed(on.lossScale) : null;
    for (let r0 = 0; r0 < total; r0 += chunkRows) {
      const rows = Math.min(chunkRows, total - r0);
      const f: Feeds = {
        ...params,
        X: new ort.Tensor("float32", x.subarray(r0 * d, (r0 + rows) * d), adapter.xDims(rows)),
      };
      if (withTargets) {
        f.Y = new ort.Tensor("float32", targets.subarray(r0 * c, (r0 + rows) * c), [rows, c]);
        f.scale = scale!;
      }
      const t = now();
      const out = fetches ? await session.run(f, fetches) : await session.run(f);
      timings.forward += now() - t;
      each(out, r0, rows, total);
    }
    return total;
  }

  const gather = (all: Float32Array, chunk: Float32Array, members: number, r0: number, rows: number, total: number) =>
    gatherChunk(all, chunk, members, c, r0, rows, total);
  /** gram += one chunk's Gram blocks (rows [a0, a1), columns [a0, K)), mirrored below the diagonal */
  function addGramBlocks(out: Feeds): void {
    blocks.forEach(([a0, a1], a) => {
      const blk = out[`gram_${a}`].data as Float32Array | Float64Array,
        width = k - a0;
      for (let i = a0; i < a1; i++) {
        const src = (i - a0) * width - a0,
          row = i * k;
        for (let col = a0; col < k; col++) {
          const v = blk[src + col];
          gram[row + col] += v;
          if (col >= a1) gram[col * k + i] += v;
        }
      }
    });
  }

  return {
    name: engine === "wasm" ? "wasm" : "onnx",
    members: { precision: "float32", factoredRank: rank },
    k,
    timings,
    startupSeconds,
    async statistics(theta: Float64Array, draw: EnsembleDraw, on: NetworkProblem) {
      if (rank > 0 && draw.lowRank?.rank !== rank)
        throw new Error(
          `this onnx kernel was built for rank-${rank} draws; the draw is ` +
            `${draw.lowRank ? `rank ${draw.lowRank.rank}` : "full"}`,
        );
      // Ω and the K perturbed members are generated and packed together (on the pool's threads)
      let t = now();
      await pool.fill(draw, k, { model, theta, packed: ensemble });
      timings.rng += now() - t;
      if (ensembleFeed !== ensemble) {
        t = now();
        ensembleFeed.forEach((p, l) => {
          const from = ensemble[l];
          p.weights.set(from.weights);
          p.bias.set(from.bias);
          if (p.factors) {
            p.factors.a.set(from.factors!.a);
            p.factors.s.set(from.factors!.s);
          }
        });
        timings.pack += now() - t;
      }
      let phi = 0;
      gram.fill(0);
      rhs.fill(0);
      // F(θ) over the batch, for the accuracy
      const f0 = new Float64Array(on.batch().rows * c);
      await runChunks(
        on,
        statsSession,
        ensembleFeed,
        true,
        (out, r0, chunk) => {
          const t = now();
          addGramBlocks(out);
          const b = out.rhs.data as Float64Array | Float32Array;
          for (let i = 0; i < k; i++) rhs[i] += b[i];
          const theta0 = f0.subarray(r0 * c, (r0 + chunk) * c);
          theta0.set(out.theta_logits.data as Float32Array);
          phi += inGraph ? (out.phi.data as Float64Array)[0] : on.rowsLoss(r0, chunk).value(theta0);
          timings.gram += now() - t;
        },
        statisticsOutputs,
      );
      const accuracy = on.batchAccuracy(f0);
      return { phi, gram, rhs, evaluations: J, ...(accuracy !== undefined ? { accuracy } : {}) };
    },
    direction(s, out) {
      const t = now();
      adapter.direction(ensemble, J, s, out);
      timings.update += now() - t;
    },
    async objective(theta, on) {
      adapter.pack(single, 1, 0, theta);
      const { rows } = on.batch();
      const logits = new Float32Array(rows * c);
      await runChunks(on, forwardSession, single, false, (out, r0, chunk, total) =>
        gather(logits, out.logits.data as Float32Array, 1, r0, chunk, total),
      );
      return on.loss.value(Float64Array.from(logits));
    },
    async predict(theta, x, rows) {
      adapter.pack(single, 1, 0, theta);
      const out = await forwardSession.run({
        ...paramFeeds(single),
        X: new ort.Tensor("float32", x.subarray(0, rows * d), adapter.xDims(rows)),
      });
      return out.logits.data as Float32Array;
    },
    async dispose() {
      await statsSession.release();
      await forwardSession.release();
      await pool.close();
    },
  };
}
