// `enkf serve` as a user starts it: the real command, its banner, its token, and SIGTERM.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { spawnCli } from "../support/cli.ts";
import { until } from "../support/wait.ts";

describe("enkf serve (the command)", () => {
  it("binds to loopback, prints a fresh token that works, and stops cleanly on SIGTERM", async () => {
    const home = mkdtempSync(join(tmpdir(), "api-cli-"));
    const child = spawnCli(["serve", "--port", "0", "--data", home], { env: { ENKF_TOKEN: undefined } });
    let out = "";
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
    });
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    const [, url, token] = await until(
      "the banner",
      async () => /listening on (http:\/\/127\.0\.0\.1:\d+)[\s\S]*token: (\S+)/.exec(out) ?? undefined,
      30_000,
    );
    expect(token.length).toBeGreaterThanOrEqual(24);
    expect((await fetch(`${url}/jobs`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await fetch(`${url}/jobs`)).status).toBe(401);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});
