import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // the deployed-artifacts stage runs on its own: npm run test:deployed (vitest.deployed.config.ts)
    exclude: ["test/deployed/**", "**/node_modules/**"],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // the AWS SDK's notice that its 2027 releases need Node 22 (the lockfile pins this one)
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  },
});
