// Lays each synthesized function out as the Node.js 22 Lambda runtime sees it: its asset copied
// as the task root (/var/task), each layer's nodejs/node_modules as a directory on NODE_PATH
// (/opt/nodejs/node_modules), all under a folder outside the repository, so that nothing
// resolves from the repository's node_modules. A layer's native package built for arm64 gets the
// same package version's x64 build beside it when this machine is x86_64 (and nothing else).
// `runtimeSdk` adds the AWS SDK as the runtime ships it (/var/runtime/node_modules), copied from
// the lockfile's packages: only for measuring bundles that still rely on it.

import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { arch } from "node:os";
import { dirname, join, sep } from "node:path";
import type { TemplateFunction } from "./template.ts";

const repo = join(import.meta.dirname, "..", "..", "..");

export interface LaidOut {
  fn: TemplateFunction;
  taskRoot: string;
  /** the directories the runtime puts on NODE_PATH, in its order */
  nodePath: string[];
}

const version = (pkgDir: string) =>
  (JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")) as { version: string }).version;

/** Package directories under a node_modules folder (scoped ones included). */
function packages(nodeModules: string): string[] {
  if (!existsSync(nodeModules)) return [];
  return readdirSync(nodeModules).flatMap((name) => {
    if (name.startsWith(".")) return [];
    const dir = join(nodeModules, name);
    return name.startsWith("@") ? readdirSync(dir).map((n) => join(dir, n)) : [dir];
  });
}

/**
 * Adds the x64 build beside every linux/arm64 native build of a layer package, from the same version in the repository.
 */
function addHostBuilds(nodeModules: string): void {
  if (arch() !== "x64") return;
  for (const pkg of packages(nodeModules)) {
    const name = pkg
      .slice(nodeModules.length + 1)
      .split(sep)
      .join("/");
    const stack = [pkg];
    while (stack.length) {
      const dir = stack.pop()!;
      for (const entry of readdirSync(dir)) {
        const path = join(dir, entry);
        if (!statSync(path).isDirectory()) continue;
        if (entry === "arm64" && dir.endsWith(`${sep}linux`) && !existsSync(join(dir, "x64"))) {
          const source = join(repo, "node_modules", name);
          if (!existsSync(source) || version(source) !== version(pkg))
            throw new Error(`layer package ${name}@${version(pkg)}: the repository has no x64 build of that version`);
          cpSync(join(source, dir.slice(pkg.length + 1), "x64"), join(dir, "x64"), { recursive: true });
        } else stack.push(path);
      }
    }
  }
}

/** The named packages and everything they depend on, from the repository's node_modules. */
function dependencyClosure(roots: string[]): string[] {
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    const dir = join(repo, "node_modules", name);
    if (!existsSync(dir)) return;
    seen.add(name);
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
      dependencies?: Record<string, string>;
    };
    for (const dep of Object.keys(pkg.dependencies ?? {})) visit(dep);
  };
  roots.forEach(visit);
  return [...seen];
}

const SDK_CLIENTS = [
  "@aws-sdk/client-s3",
  "@aws-sdk/client-sfn",
  "@aws-sdk/client-scheduler",
  "@aws-sdk/s3-request-presigner",
  "@aws-sdk/client-lambda",
];

/**
 * Copies the functions into `root` (a fresh directory outside the repository): `root/<id>/task`,
 * `root/layers/<n>/nodejs/node_modules`, and with `runtimeSdk` `root/runtime/node_modules`.
 */
export function layOut(functions: TemplateFunction[], root: string, opts: { runtimeSdk?: boolean } = {}): LaidOut[] {
  if (root.startsWith(repo + sep)) throw new Error(`the layout must be outside the repository (${root})`);
  for (let dir = root; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dirname(dir), "node_modules")))
      throw new Error(`${join(dirname(dir), "node_modules")} would be resolvable from the layout`);
  }
  const layerDirs = new Map<string, string>();
  const runtime = join(root, "runtime", "node_modules");
  if (opts.runtimeSdk) {
    for (const name of dependencyClosure(SDK_CLIENTS))
      cpSync(join(repo, "node_modules", name), join(runtime, name), { recursive: true });
  }
  return functions.map((fn) => {
    const taskRoot = join(root, fn.id, "task");
    mkdirSync(taskRoot, { recursive: true });
    cpSync(fn.asset, taskRoot, { recursive: true });
    const nodePath = fn.layers.map((asset) => {
      let dir = layerDirs.get(asset);
      if (!dir) {
        dir = join(root, "layers", String(layerDirs.size), "nodejs", "node_modules");
        cpSync(join(asset, "nodejs", "node_modules"), dir, { recursive: true });
        addHostBuilds(dir);
        layerDirs.set(asset, dir);
      }
      return dir;
    });
    return { fn, taskRoot, nodePath: opts.runtimeSdk ? [...nodePath, runtime] : nodePath };
  });
}
