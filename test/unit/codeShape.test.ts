// The code-shape check (scripts/codeShape.ts) catches what it forbids: a fixture tree with an
// unformatted file, a long line, a product module over 300 lines, and the files it must pass.
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkShape, MAX_COLUMNS, MAX_LINES } from "../../scripts/codeShape.ts";

const repo = join(import.meta.dirname, "..", "..");

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "shape-"));
  for (const name of [".prettierrc.json", ".prettierignore"]) cpSync(join(repo, name), join(root, name));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const constants = (n: number) => Array.from({ length: n }, (_, i) => `export const c${i} = ${i};\n`).join("");

describe("the code-shape check", () => {
  it("reports an unformatted file, a long line and a long product module, and passes the rest", async () => {
    const longLine = `// ${"x".repeat(MAX_COLUMNS - 2)}\nexport const a = 1;\n`;
    const root = tree({
      "shared/ok.ts": "export const a = 1;\n",
      "shared/unformatted.ts": "export const a   =  1\n",
      "cli/wide.ts": longLine,
      "infra/big.ts": constants(MAX_LINES + 1),
      // outside the product's folders a long module is allowed; the line rule still holds there
      "test/big.test.ts": constants(MAX_LINES + 1),
      "test/wide.test.ts": longLine,
      // a file .prettierignore names is not checked
      "examples/anything.ts": "const   x=1",
    });
    const problems = await checkShape(root);
    expect(problems.map((p) => p.file).sort()).toEqual([
      "cli/wide.ts",
      "infra/big.ts",
      "shared/unformatted.ts",
      "test/wide.test.ts",
    ]);
    expect(problems.find((p) => p.file === "infra/big.ts")?.why).toContain(`${MAX_LINES + 1} lines`);
    expect(problems.find((p) => p.file === "cli/wide.ts")?.why).toContain("line 1");
    expect(problems.find((p) => p.file === "shared/unformatted.ts")?.why).toContain("not formatted");
  });

  it("counts characters, not UTF-16 units or bytes", async () => {
    // 120 'θ' (2 bytes each in UTF-8) is exactly the limit
    const root = tree({ "shared/greek.ts": `// ${"θ".repeat(MAX_COLUMNS - 3)}\nexport const a = 1;\n` });
    expect(await checkShape(root)).toEqual([]);
  });
});
