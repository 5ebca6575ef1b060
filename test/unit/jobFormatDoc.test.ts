// docs/job-format.md is what the schema says: regenerated here and compared with the committed file.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { jobFormatMarkdown } from "../../scripts/jobFormatDoc.ts";

describe("docs/job-format.md", () => {
  it("matches the job schema (run npm run docs after changing shared/spec/job.ts)", () => {
    const doc = jobFormatMarkdown();
    expect(readFileSync(join(import.meta.dirname, "..", "..", "docs", "job-format.md"), "utf8")).toBe(doc);
    // every optimizer method and every problem type has its table
    for (const name of ["modified-enkf", "enkf", "gradient-descent", "quadratic", "classification", "regression"])
      expect(doc).toContain(`"${name}"\``);
  });
});
