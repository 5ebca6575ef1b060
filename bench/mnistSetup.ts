// The benches' common setting: the MLP 784-64-10 (tanh) on the MNIST digits with batches of 1000
// and the loss in sum form (divided at the reduction, as jobs run it), and the PyTorch reference's
// algorithm: σ = γ = 1e-2, η = 1, no line search, full or rank-r draws.

import { loadMnist } from "../shared/data/mnist.ts";
import { networkProblem } from "../shared/problems/network.ts";
import { ModifiedEnkfOptimizer } from "../shared/spec/job.ts";

export const MNIST_MLP = { type: "mlp" as const, inputs: 784, hidden: [64], outputs: 10, activation: "tanh" as const };

/** The MNIST MLP problem, batches and initialization from `seed`. */
export const mnistMlpProblem = (seed = 0) =>
  networkProblem({
    model: MNIST_MLP,
    dataset: loadMnist(),
    loss: "cross-entropy",
    batchSize: 1000,
    batchSeed: seed,
    initSeed: seed,
    lossScale: 1,
  });

/** The reference's modified EnKF at K (rank 0: full Gaussian draws), as a job writes it. */
const referenceSpec = (K: number, rank: number, seed = 0) => ({
  method: "modified-enkf",
  ensembleSize: K,
  sigma: 1e-2,
  gamma: 1e-2,
  stepSize: 1,
  lineSearch: false,
  batchSize: 1000,
  seed,
  ...(rank > 0 ? { perturbation: { type: "low-rank", rank } } : {}),
});

/** The reference's modified EnKF at K (rank 0: full Gaussian draws). */
export const referenceOptimizer = (K: number, rank: number, seed = 0) =>
  ModifiedEnkfOptimizer.parse(referenceSpec(K, rank, seed));

/** The same setting as a job through the state machine: the MNIST MLP, the reference's optimizer. */
export const mnistWorkflowJob = (name: string, K: number, rank: number, stop: object, compute: object) => ({
  name,
  problem: {
    type: "classification",
    data: { source: "mnist" },
    model: { type: "mlp", hidden: MNIST_MLP.hidden, activation: MNIST_MLP.activation },
    seed: 0,
  },
  optimizer: referenceSpec(K, rank),
  stop,
  compute,
});
