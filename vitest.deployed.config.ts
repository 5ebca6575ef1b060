// `npm run test:deployed`: the deployed-artifacts stage (docs/aws.md). It synthesizes the app with
// bundling once (test/deployed/globalSetup.ts) and runs the bundles as Lambda would; one file at a
// time, since each starts its own Lambda processes.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/deployed/**/*.test.ts"],
    globalSetup: ["test/deployed/globalSetup.ts"],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 120_000,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  },
});
