// The deployed-artifacts stage's one-time setup: `cdk synth` with bundling (the assets `cdk
// deploy` would upload), allowing the test forward functions, and the test forward function
// bundled as the app bundles its own (esbuild: ESM, node22, minified, the same banner).

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import type { TestProject } from "vitest/node";
import { FAILING_FORWARD_ARN, FORWARD_ARN } from "./support/jobs.ts";

const repo = join(import.meta.dirname, "..", "..");
let root: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  root = mkdtempSync(join(tmpdir(), "enkf-deployed-"));
  const assembly = join(root, "cdk.out");
  const started = Date.now();
  const r = spawnSync(
    join(repo, "node_modules", ".bin", "cdk"),
    ["synth", "-q", "-o", assembly, "-c", `forwardFunctions=${FORWARD_ARN},${FAILING_FORWARD_ARN}`],
    {
      cwd: repo,
      encoding: "utf8",
      env: { ...process.env, CDK_DISABLE_VERSION_CHECK: "1" },
    },
  );
  if (r.status !== 0) throw new Error(`cdk synth failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  console.log(`cdk synth with bundling: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const forward = join(root, "forward");
  await build({
    entryPoints: [join(import.meta.dirname, "support", "forwardFunction.ts")],
    outfile: join(forward, "index.mjs"),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    minify: true,
    banner: { js: "import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);" },
  });
  project.provide("deployedRoot", root);
}

export function teardown(): void {
  if (root && !process.env.ENKF_KEEP_DEPLOYED) rmSync(root, { recursive: true, force: true });
}

declare module "vitest" {
  export interface ProvidedContext {
    deployedRoot: string;
  }
}
