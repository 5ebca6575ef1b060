#!/usr/bin/env node
// Entry point of the `enkf` command: loads the TypeScript CLI through tsx's ESM loader.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
