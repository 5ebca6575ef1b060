// The dependency rule (docs/architecture.md) and its checker: entry points (cli, functions, infra,
// local) → shared/workflow, service, api → shared/enkf, kernels, distributed, store → shared/math,
// spec and the other pure folders; nothing in shared/ imports an entry point, the pure folders
// import no I/O, and the folders form no cycle. `npm test` runs it (checkDependencies.ts).

import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import ts from "typescript";

export interface Rule {
  /** files the rule applies to (repository-relative path) */
  from: RegExp;
  /** imports they may not make: a repository-relative path, or a package or node: specifier */
  to: RegExp;
  why: string;
}

const PURE = "shared/(math|spec|losses|models|formats|schedule|simulators)/";
const IO = new RegExp(
  [
    "^(node:)?(fs|fs/promises|net|http|https|child_process|worker_threads|dgram)$",
    "^@aws-sdk/",
    "^aws-local-stepfunctions$",
    "^onnxruntime",
  ].join("|"),
);

export const RULES: Rule[] = [
  {
    from: /^shared\//,
    to: /^(cli|functions|infra|local|bench|test|scripts)\//,
    why: "the library never imports an entry point or the local runtime",
  },
  {
    from: /^(functions|infra)\//,
    to: /^(local|cli)\//,
    why: "deployed code never imports the local runtime or the CLI",
  },
  {
    from: /^infra\//,
    to: /^functions\//,
    why: "infra declares topology; it names the functions' entry files, never imports them",
  },
  {
    from: /^local\//,
    to: /^(cli|functions)\//,
    why: "the local runtime runs shared/workflow's handlers, not the deployed entry points",
  },
  {
    from: new RegExp(`^${PURE}`),
    to: /^shared\/(?!(math|spec|losses|models|formats|schedule|simulators)\/)/,
    why: "the math and the schema depend on nothing above them",
  },
  { from: new RegExp(`^(${PURE}|shared/enkf/)`), to: IO, why: "the math imports no I/O" },
  {
    from: /^shared\/(kernels|problems|data|distributed)\//,
    to: /^shared\/(enkf|workflow|service|api|setup|store|plan)\//,
    why: "kernels, problems, data and shard evaluation sit below the algorithm and the workflow",
  },
  {
    from: /^shared\/enkf\//,
    to: /^shared\/(workflow|service|api|setup|store|plan|report|output)\//,
    why: "the algorithm knows nothing of the workflow, the store or the service",
  },
  {
    from: /^shared\/store\//,
    to: /^shared\/(?!store\/)/,
    why: "stores move bytes; they know nothing of what is in them",
  },
  {
    from: /^shared\/workflow\//,
    to: /^shared\/(service|api)\//,
    why: "the workflow knows nothing of the HTTP service",
  },
  {
    from: /^shared\/service\//,
    to: /^shared\/api\//,
    why: "the service throws domain errors; only shared/api speaks HTTP",
  },
];

export interface Violation {
  file: string;
  target: string;
  why: string;
}

const SOURCE = /\.(ts|mjs)$/;
const SKIP = new Set(["node_modules", ".git", "cdk.out", "runs", ".gl", ".whl"]);

function sources(root: string, dir = root): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(root, path));
    else if (SOURCE.test(name)) out.push(relative(root, path).split("\\").join("/"));
  }
  return out;
}

/** The imports of a file: repository-relative paths for relative specifiers, else the specifier. */
export function importsOf(root: string, file: string): string[] {
  const info = ts.preProcessFile(readFileSync(join(root, file), "utf8"), true, true);
  return info.importedFiles.map(({ fileName }) =>
    fileName.startsWith(".")
      ? normalize(join(dirname(file), fileName))
          .split("\\")
          .join("/")
      : fileName.replace(/^node:/, "node:"),
  );
}

/** The folder a file belongs to: shared/<folder>, or the top-level folder. */
const folderOf = (path: string) => {
  const parts = path.split("/");
  return parts[0] === "shared" && parts.length > 2 ? `shared/${parts[1]}` : parts.length > 1 ? parts[0] : ".";
};

/** Every forbidden import under `root`, and every cycle between folders. */
export function checkDependencies(root: string, rules: Rule[] = RULES): Violation[] {
  const out: Violation[] = [];
  const edges = new Map<string, Map<string, string>>();
  for (const file of sources(root)) {
    for (const target of importsOf(root, file)) {
      for (const rule of rules)
        if (rule.from.test(file) && rule.to.test(target)) out.push({ file, target, why: rule.why });
      if (!target.includes("/") || !/^[.\w]/.test(target) || !SOURCE.test(target)) continue;
      const a = folderOf(file),
        b = folderOf(target);
      if (a === b) continue;
      if (!edges.has(a)) edges.set(a, new Map());
      if (!edges.get(a)!.has(b)) edges.get(a)!.set(b, `${file} → ${target}`);
    }
  }
  // folder cycles: a depth-first search that reports each back edge once
  const state = new Map<string, "open" | "done">();
  const visit = (a: string, path: string[]) => {
    state.set(a, "open");
    for (const [b, example] of edges.get(a) ?? []) {
      if (state.get(b) === "open")
        out.push({
          file: example.split(" → ")[0],
          target: example.split(" → ")[1],
          why: `folder cycle ${[...path.slice(path.indexOf(b)), a, b].join(" → ")}`,
        });
      else if (!state.has(b)) visit(b, [...path, a]);
    }
    state.set(a, "done");
  };
  for (const a of [...edges.keys()].sort()) if (!state.has(a)) visit(a, []);
  return out;
}
