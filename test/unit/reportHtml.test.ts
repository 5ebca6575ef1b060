// The run report says which θ every number describes (the result's, best by validation, and the
// last iteration's batch Φ), the iteration the best θ came from, who ran it (its title), plots the
// validation loss, and names where the time went (start-up and evaluations apart from the rest).
import { describe, expect, it } from "vitest";
import { runCharts } from "../../shared/report/charts.ts";
import { reportHtml, type ReportInput } from "../../shared/report/html.ts";

const input: ReportInput = {
  name: "digits",
  status: "early_stopped",
  message: "stopped",
  iterations: 40,
  objective: 0.61,
  seconds: 12.5,
  metrics: { testAccuracy: 0.91, validationLoss: 0.3 },
  best: { iteration: 20 },
  last: { iteration: 40, metrics: { testAccuracy: 0.89, validationLoss: 0.34 } },
  origin: "job j123",
  environment: { engine: "in-process" },
  timings: { startup: 0.5, rng: 0.01, forward: 8, evaluation: 2.5, other: 1.5 },
  spec: {},
  plots: [],
  generatedAt: "2026-12-06T00:00:00Z",
};

describe("the run report", () => {
  const html = reportHtml(input);
  it("is titled for who ran it", () => {
    expect(html).toMatch(/<title>digits: job j123 report<\/title>/);
    expect(reportHtml({ ...input, origin: undefined })).toMatch(/<title>digits: run report<\/title>/);
    expect(html).not.toMatch(/enkf run report/);
  });
  it("says which θ each number describes", () => {
    expect(html).toMatch(/theta\.npy: the best θ by the validation split, from iteration 20 of 40/);
    expect(html).toMatch(
      /The last iteration \(40\): Φ on its mini-batch, and the last θ \(theta-last\.npy\) on the full splits/,
    );
    expect(html).toMatch(/test accuracy 0\.91 \(θ of iteration 20\)/);
    expect(html).toMatch(/last batch Φ 0\.61/);
    expect(reportHtml({ ...input, best: { iteration: 0 } })).toMatch(/from iteration 0 of 40 \(the warm start\)/);
  });
  it("names where the time went", () => {
    expect(html).toMatch(/start-up \(ONNX sessions, RNG workers\), before the first iteration/);
    expect(html).toMatch(/evaluations on the full splits/);
    expect(html).toMatch(/the rest: K×K solves, the line search(?:'|&#39;)s forwards, bookkeeping/);
  });
  it("plots the validation loss", () => {
    const history = [10, 20, 30].map((i) => ({
      iteration: i,
      seconds: i / 10,
      objective: 1 / i,
      evaluation: { validationLoss: 1 / i, trainLoss: 0.9 / i, testAccuracy: 0.5 },
    }));
    const chart = runCharts(history as never).find((c) => c.name === "validation");
    expect(chart?.title).toMatch(/validation chooses the best θ/);
    expect(JSON.stringify(chart?.spec)).toMatch(/"series":"validation","loss":0\.1/);
  });
});
