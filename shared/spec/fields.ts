// Shared field builders for the job spec (job.ts): ensemble sizes, seeds, signs, α.

import { z } from "zod";
import { LIMITS } from "./limits.ts";

/** K (or J), bounded where the service's limit is (limits.ts): the K×K statistics grow as K². */
export const ensembleSizeField = (what: string) =>
  z
    .int()
    .min(2)
    .max(
      LIMITS.ensembleSize,
      `over the limit of ${LIMITS.ensembleSize}: the K×K statistics alone would be more than ` +
        `${(8 * LIMITS.ensembleSize ** 2) / 2 ** 20} MiB of float64 per shard`,
    )
    .describe(what);

export const positive = z.number().positive();
export const nonNegative = z.number().min(0);
export const seed = z.int().min(0).max(Number.MAX_SAFE_INTEGER).describe("non-negative integer seed");

export const regularization = nonNegative.default(0).describe("α in the optional term ½α‖θ‖² added to Φ");

/** rows per iteration of a network problem's mini-batches */
export const batchSize = z
  .int()
  .min(1)
  .optional()
  .describe("rows per iteration (seeded random mini-batch); default: the whole training set");
