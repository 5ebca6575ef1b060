// The job spec as JSON Schema (draft 2020-12), generated from the zod schema so it cannot drift.

import { z } from "zod";
import { JobSpec } from "./job.ts";

export function jobJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(JobSpec, { io: "input", target: "draft-2020-12" }),
    title: "EnKF optimization job",
  };
}
