// The dependency rule holds for the repository, and the checker does catch what it forbids (a
// fixture tree with one import of each kind it must refuse, and one it must allow).
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkDependencies } from "../../scripts/dependencyRules.ts";

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "deps-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe("the dependency rule", () => {
  it("holds for this repository", () => {
    expect(checkDependencies(join(import.meta.dirname, "..", ".."))).toEqual([]);
  });

  it(
    "reports I/O in the math, an entry point imported by the library, a layer skipped upward " + "and a folder cycle",
    () => {
      const root = tree({
        "shared/math/rng.ts": 'import { readFileSync } from "node:fs";\nexport const x = readFileSync;\n',
        "shared/workflow/steps.ts": 'export { y } from "../../local/engine.ts";\n',
        "local/engine.ts": "export const y = 1;\n",
        "shared/kernels/k.ts": 'const m = await import("../enkf/a.ts");\nexport { m };\n',
        "shared/enkf/a.ts": 'import { k } from "../problems/p.ts";\nexport const a = k;\n',
        "shared/problems/p.ts": 'import { a } from "../losses/l.ts";\nexport const k = a;\n',
        "shared/losses/l.ts": 'import { b } from "../problems/q.ts";\nexport const a = b;\n',
        "shared/problems/q.ts": "export const b = 2;\n",
        // allowed: the CLI runs the workflow
        "cli/run.ts": 'import { y } from "../shared/workflow/steps.ts";\nexport { y };\n',
      });
      const found = checkDependencies(root).map((v) => `${v.file} → ${v.target}: ${v.why}`);
      expect(found).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^shared\/math\/rng\.ts → node:fs: the math imports no I\/O/),
          expect.stringMatching(/^shared\/workflow\/steps\.ts → local\/engine\.ts: the library never imports/),
          expect.stringMatching(/^shared\/kernels\/k\.ts → shared\/enkf\/a\.ts: kernels, problems/),
          expect.stringMatching(
            /^shared\/losses\/l\.ts → shared\/problems\/q\.ts: the math and the schema depend on nothing above/,
          ),
          expect.stringMatching(/folder cycle shared\/problems → shared\/losses → shared\/problems/),
        ]),
      );
      expect(found.filter((f) => f.startsWith("cli/"))).toEqual([]);
    },
  );
});
