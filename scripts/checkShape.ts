// `npm run shape` (and a step of `npm test`): checks the code-shape rules of codeShape.ts over the
// repository and exits 1 naming every file that breaks one.

import { join } from "node:path";
import { checkShape, MAX_COLUMNS, MAX_LINES } from "./codeShape.ts";

const problems = await checkShape(join(import.meta.dirname, ".."));
for (const p of problems) console.error(`code shape: ${p.file}: ${p.why}`);
if (problems.length > 0) {
  console.error(
    `${problems.length} code-shape problem${problems.length === 1 ? "" : "s"} (the rules: docs/architecture.md)`,
  );
  process.exit(1);
}
console.log(`code shape: formatted, no line over ${MAX_COLUMNS} characters, no product module over ${MAX_LINES} lines`);
