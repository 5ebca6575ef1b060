// Every function bundle `cdk deploy` would upload loads as Lambda's Node.js runtime loads it: its
// asset as the task root, its layers on NODE_PATH, no runtime AWS SDK and nothing from the
// repository's node_modules. A bundle whose module graph names a package neither holds fails its
// cold start (Runtime.ImportModuleError), as it would on AWS. Prints each bundle's size and the
// time its cold start spent importing it.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startStage, type Stage } from "./support/stage.ts";

let stage: Stage;
// ENKF_DEPLOYED_RUNTIME_SDK=1 adds the runtime's AWS SDK to the layout (to measure bundles that rely on it)
beforeAll(async () => {
  stage = await startStage({
    root: inject("deployedRoot"),
    concurrency: 1,
    runtimeSdk: process.env.ENKF_DEPLOYED_RUNTIME_SDK === "1",
  });
});
afterAll(async () => {
  await stage?.close();
});

const size = (path: string): number =>
  statSync(path).isDirectory() ? readdirSync(path).reduce((n, e) => n + size(join(path, e)), 0) : statSync(path).size;
const mb = (bytes: number) => (bytes / 1e6).toFixed(2);

describe("the synthesized bundles in the runtime layout", () => {
  it("has the app's eight functions", () => {
    expect(stage.functions.map((f) => f.fn.role).sort()).toEqual([
      "api",
      "evaluate",
      "finalize",
      "init",
      "launch",
      "outcome",
      "recordFailure",
      "reduce",
    ]);
  });

  it("loads every function: each cold start imports its handler", async () => {
    const rows: string[] = [];
    const failures: string[] = [];
    for (const f of stage.functions) {
      const bundle = statSync(join(f.taskRoot, "index.mjs")).size;
      try {
        const ms = await stage.lambda.host(f.fn.id)!.warm();
        rows.push(
          `${f.fn.role.padEnd(14)} ${mb(bundle).padStart(7)} MB  ${mb(size(f.taskRoot)).padStart(7)} ` +
            `MB  ${ms.toFixed(0).padStart(6)} ms`,
        );
      } catch (e) {
        failures.push(`${f.fn.role}: ${(e as Error).message.split("\n")[0]}`);
      }
    }
    console.log(`function       index.mjs      asset     import\n${rows.join("\n")}`);
    expect(failures).toEqual([]);
  });

  it("bundles the AWS SDK (the lockfile's version) rather than importing the runtime's", () => {
    for (const f of stage.functions) {
      const code = readFileSync(join(f.taskRoot, "index.mjs"), "utf8");
      const imported = [...code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*)["']([^"'./][^"']*)["']/g)].map((m) => m[1]);
      expect(
        imported.filter((s) => s.startsWith("@aws-sdk/")),
        f.fn.role,
      ).toEqual([]);
    }
  });

  it("answers an invocation with the handler's own error, as Lambda does (X-Amz-Function-Error)", async () => {
    // an evaluate event for a job that does not exist: the handler runs and fails
    const r = await stage.invoke("evaluate", {
      job: { store: `s3://${stage.s3.bucket}/no-such-job/` },
      round: 0,
      item: 0,
      op: "evaluate",
    });
    expect(r.functionError).toBe("Unhandled");
    expect(r.value.errorMessage).toMatch(/no-such-job/);
  });
});
