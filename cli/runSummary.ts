// The lines enkf run prints when a run ends: its status and figures, which θ theta.npy holds, the files written.

import type { Posterior, RunResult } from "../shared/enkf/types.ts";

/** The closing lines of enkf run. */
export function summary(result: RunResult, outDir: string, model: boolean): string {
  const rd = result.metrics.relativeDistance;
  const acc = result.metrics.testAccuracy;
  return (
    `${result.status}: ${result.message}\n` +
    `  iterations ${result.iterations}, objective ${result.objective.toExponential(6)}` +
    (rd !== undefined ? `, relative distance ${rd.toExponential(3)}` : "") +
    (acc !== undefined ? `, test accuracy ${acc.toFixed(4)}` : "") +
    `, ${result.evaluations} forward evaluations, ${result.seconds.toFixed(2)} s\n` +
    parameterLines(result) +
    bestLine(result) +
    `  wrote ${outDir}/{${wroteFiles(result.last !== undefined, model, result.samples !== undefined)},` +
    `spec.json,plots/}\n`
  );
}

/** The run files the wrote line lists: result.json, theta.npy, theta-last.npy and model.json where written,
 *  history.csv. */
export const wroteFiles = (last: boolean, model: boolean, samples = false) =>
  [
    "result.json",
    "theta.npy",
    ...(last ? ["theta-last.npy"] : []),
    ...(samples ? ["samples.npy"] : []),
    ...(model ? ["model.json"] : []),
    "history.csv",
  ].join(",");

/** Which θ theta.npy holds, when a validation split chose it. */
export function bestLine(result: {
  iterations: number;
  best?: { iteration: number; metrics: Record<string, number> };
  last?: { metrics: Record<string, number> };
}): string {
  if (!result.best) return "";
  const m = result.best.metrics;
  const score =
    m.validationAccuracy !== undefined
      ? `validation accuracy ${m.validationAccuracy.toFixed(4)}`
      : `validation loss ${m.validationLoss?.toExponential(4)}`;
  return result.last
    ? `  theta.npy: the best θ, iteration ${result.best.iteration} (${score}); theta-last.npy: ` +
        `iteration ${result.iterations}` +
        (result.last.metrics.testAccuracy !== undefined
          ? ` (test accuracy ${result.last.metrics.testAccuracy.toFixed(4)})`
          : "") +
        "\n"
    : `  theta.npy: the last θ is the best one (${score})\n`;
}

/** An inverse problem's parameters, with their 95% intervals where the run formed a posterior. */
export function parameterLines(result: { parameters?: Record<string, number>; posterior?: Posterior }): string {
  if (!result.parameters) return "";
  const post = result.posterior;
  if (!post || "unavailable" in post)
    return (
      `  parameters: ${Object.entries(result.parameters)
        .map(([k, v]) => `${k} ${v.toPrecision(6)}`)
        .join(", ")}\n` + (post ? `  posterior: not formed: ${post.unavailable}\n` : "")
    );
  const p = (v: number) => v.toPrecision(4);
  const source =
    post.method === "eks"
      ? `the sampler's ${post.ensembleSize} particles`
      : post.draws > 1
        ? `Laplace posterior from ${post.draws} draws, as K = ${post.ensembleSize} < n`
        : "Laplace posterior";
  return (
    `  parameters (${source}: estimate, mean ± std, 95% interval):\n` +
    Object.entries(post.parameters)
      .map(
        ([k, q]) =>
          `    ${k} ${q.estimate.toPrecision(6)}, ${p(q.mean)} ± ${p(q.std)}, ` +
          `[${p(q.interval[0])}, ${p(q.interval[1])}]\n`,
      )
      .join("")
  );
}
