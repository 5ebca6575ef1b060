// Turns validation failures into flat `path: message` lines a person can act on.

import type { z } from "zod";

export interface SpecProblem {
  /** dotted field path, e.g. "optimizer.sigma.initial"; "" for the document itself */
  path: string;
  message: string;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out === "" ? String(p) : `.${String(p)}`;
  }
  return out;
}

function deepestBranch(branches: readonly (readonly z.core.$ZodIssue[])[]): readonly z.core.$ZodIssue[] | null {
  let best: readonly z.core.$ZodIssue[] | null = null;
  let depth = 0;
  for (const b of branches) {
    for (const i of b) {
      const d = i.path.length + (i.code === "unrecognized_keys" || i.code === "invalid_union" ? 1 : 0);
      if (d > depth) {
        depth = d;
        best = b;
      }
    }
  }
  return best;
}

/** What a document is, by the path of a field in it ("the job spec", "a schedule", …): for messages. */
export type DocumentName = (path: readonly PropertyKey[]) => string;

function collect(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[],
  out: SpecProblem[],
  doc: DocumentName,
): void {
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys)
        out.push({ path: formatPath([...path, key]), message: `unknown key (not part of ${doc(path)})` });
    } else if (issue.code === "invalid_union" && "errors" in issue && issue.errors.length > 0) {
      // a branch that got past the type check names the real field; otherwise keep the union's message
      const branch = deepestBranch(issue.errors);
      if (branch) collect(branch, path, out, doc);
      else out.push({ path: formatPath(path), message: issue.message });
    } else if (issue.code === "invalid_type" && / received undefined$/.test(issue.message)) {
      // a field left out, not one of the wrong type
      out.push({
        path: formatPath(path),
        message: `required (${issue.expected === "object" ? "an object" : `a ${issue.expected}`})`,
      });
    } else {
      out.push({ path: formatPath(path), message: issue.message });
    }
  }
}

export function specProblems(error: z.ZodError, doc: DocumentName = () => "the job spec"): SpecProblem[] {
  const out: SpecProblem[] = [];
  collect(error.issues, [], out, doc);
  return out;
}
