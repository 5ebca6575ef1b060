// The jobs the deployed-artifacts stage submits: small enough for two cores, each through the
// path it exercises (data shards, the Distributed Map, member blocks with a Lambda forward).

export const FORWARD_ARN = "arn:aws:lambda:us-east-1:000000000000:function:enkf-test-forward";
export const FAILING_FORWARD_ARN = "arn:aws:lambda:us-east-1:000000000000:function:enkf-test-forward-failing";

export const LORENZ = { type: "lorenz96", variables: 40, dt: 0.01, spinup: 200, steps: 600 } as const;

/** An MLP on the MNIST digits in `shards` shards. */
export function mnistJob(name: string, shards: number, iterations: number, extra: Record<string, unknown> = {}) {
  return {
    name,
    problem: {
      type: "classification",
      data: { source: "mnist" },
      model: { type: "mlp", hidden: [8], activation: "tanh" },
      seed: 3,
    },
    optimizer: {
      method: "modified-enkf",
      ensembleSize: 10,
      sigma: 0.01,
      gamma: { relative: 1e-3 },
      batchSize: 300,
      seed: 7,
    },
    stop: { maxIterations: iterations },
    compute: { shards },
    ...extra,
  };
}

/** Lorenz-96's forcing and coupling from four moments, the forward a Lambda function (or the built-in). */
export function lorenzJob(name: string, forward: object, blocks: number) {
  return {
    name,
    problem: {
      type: "inverse",
      forward,
      observations: { values: [2.28, 18.9, 6.25, 0.87], noise: { std: [0.1, 1, 0.5, 0.5] } },
      parameters: [
        { name: "forcing", prior: { mean: 6, std: 2 }, bounds: [0, null] },
        { name: "coupling", prior: { mean: 1.3, std: 0.4 }, bounds: [0, null] },
      ],
    },
    optimizer: { method: "modified-enkf", ensembleSize: 6, sigma: 0.1, gamma: { relative: 0.01 }, seed: 5 },
    stop: { maxIterations: 5 },
    compute: { memberBlocks: blocks },
  };
}
