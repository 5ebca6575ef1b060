// The code-shape rules `npm test` checks (checkShape.ts): Prettier's formatting, lines of at most
// 120 characters in every source file, and modules of at most 300 lines in the product's folders.

import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import * as prettier from "prettier";

export const MAX_COLUMNS = 120;
export const MAX_LINES = 300;
/** The product's folders, where a module stays small. */
export const PRODUCT_DIRS = ["shared", "cli", "local", "functions", "infra"];
const SKIP = new Set(["node_modules", "cdk.out", "runs", ".git", "dist"]);

export interface ShapeProblem {
  file: string;
  why: string;
}

/** The line and size rules on one file's text (`product`: a module of shared/, cli/, local/, functions/, infra/). */
export function textProblems(file: string, text: string, product: boolean): ShapeProblem[] {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const problems: ShapeProblem[] = [];
  const long = lines.flatMap((l, i) => ([...l].length > MAX_COLUMNS ? [i + 1] : []));
  if (long.length > 0) {
    const where = `line ${long.slice(0, 5).join(", ")}${long.length > 5 ? ", …" : ""}`;
    problems.push({ file, why: `${long.length} line(s) over ${MAX_COLUMNS} characters (${where})` });
  }
  if (product && lines.length > MAX_LINES)
    problems.push({ file, why: `${lines.length} lines, over ${MAX_LINES}: split it by what its parts do` });
  return problems;
}

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(e.name)) continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) sources(path, out);
    else if (/\.(ts|mts|js|mjs)$/.test(e.name) && !e.name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

/** Every problem in the repository at `root`: unformatted files (Prettier, .prettierrc.json and .prettierignore), long
 *  lines, and product modules over 300 lines. */
export async function checkShape(root: string): Promise<ShapeProblem[]> {
  const problems: ShapeProblem[] = [];
  const ignorePath = join(root, ".prettierignore");
  for (const path of sources(root).sort()) {
    const file = relative(root, path);
    const info = await prettier.getFileInfo(path, { ignorePath });
    if (info.ignored) continue;
    const text = readFileSync(path, "utf8");
    const options = await prettier.resolveConfig(path);
    if (!(await prettier.check(text, { ...options, filepath: path })))
      problems.push({ file, why: "not formatted (npm run format)" });
    problems.push(...textProblems(file, text, PRODUCT_DIRS.includes(file.split("/")[0])));
  }
  return problems;
}
