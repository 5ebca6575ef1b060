// `npm run deps` (and the first step of `npm test`): checks the dependency rule of
// dependencyRules.ts over the repository and exits 1 naming every forbidden import.

import { join } from "node:path";
import { checkDependencies } from "./dependencyRules.ts";

const violations = checkDependencies(join(import.meta.dirname, ".."));
for (const v of violations) console.error(`dependency rule: ${v.file} imports ${v.target}: ${v.why}`);
if (violations.length > 0) {
  console.error(
    `${violations.length} forbidden import${violations.length === 1 ? "" : "s"} (the rule: docs/architecture.md)`,
  );
  process.exit(1);
}
console.log("dependency rule: no forbidden imports, no folder cycles");
