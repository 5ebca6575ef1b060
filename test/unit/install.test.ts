// The install is clean on the Node the README names: npm reads no config it does not know (the
// install switch for onnxruntime-node lives in package.json's allowScripts), and the direct
// dependencies accept that Node, but the one the README names as the exception.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
/** declares Node ≥ 22 for Promise.withResolvers only, which local/engine.ts adds on Node 20 (README) */
const EXCEPTIONS = new Set(["aws-local-stepfunctions"]);

const version = (v: string) => v.split(".").map(Number);
const atLeast = (a: number[], b: number[]) =>
  (a[0] ?? 0) !== (b[0] ?? 0) ? (a[0] ?? 0) > (b[0] ?? 0) : (a[1] ?? 0) >= (b[1] ?? 0);

describe("the install", () => {
  it("npm reads no unknown project config, and onnxruntime-node's download script is not allowed", () => {
    const r = spawnSync("npm", ["config", "list"], { cwd: root, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/Unknown project config/);
    expect(pkg.allowScripts["onnxruntime-node"]).toBe(false);
  });

  it("every direct dependency's engines accept the README's Node", () => {
    const ours = version(/^>=\s*([\d.]+)/.exec(pkg.engines.node)![1]);
    const refusing: string[] = [];
    for (const name of Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })) {
      const node = JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).engines?.node as
        string | undefined;
      const min = node && /^>=\s*([\d.]+)$/.exec(node.trim());
      if (min && !atLeast(ours, version(min[1])) && !EXCEPTIONS.has(name)) refusing.push(`${name} wants ${node}`);
    }
    expect(refusing).toEqual([]);
  });
});
