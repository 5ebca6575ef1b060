// The API's view of an inverse job's posterior (GET /jobs/{id}'s `posterior`): what result.json's
// `posterior` holds, as the Laplace posterior (shared/enkf/laplacePosterior.ts) or the sampler
// (shared/enkf/eks.ts) report it.

import { z } from "zod";

export const ParameterPosteriorView = z.object({
  estimate: z.number().describe("the calibrated value (the Laplace posterior's mode; the sampler's mean)"),
  mean: z.number(),
  std: z.number(),
  interval: z.tuple([z.number(), z.number()]).describe("the central 95% interval"),
});

export const PosteriorView = z
  .union([
    z.object({
      method: z.enum(["laplace", "eks"]),
      parameters: z.record(z.string(), ParameterPosteriorView).describe("by name, in the parameters' units"),
      correlation: z.array(z.array(z.number())).describe("in the parameters' units, in θ's order"),
    }),
    z.object({ method: z.literal("laplace"), unavailable: z.string().describe("why no posterior was formed") }),
  ])
  .describe("an inverse job's uncertainty around its parameters (docs/method.md#uncertainty)")
  .meta({ id: "Posterior" });
