// Module-resolution hooks of the Lambda runtime emulation (runtime.mjs): a bare specifier that
// the task root's own node_modules cannot resolve is looked up in the NODE_PATH directories
// (the layers' /opt/nodejs/node_modules, then the runtime's), as Lambda's Node.js runtime does for
// ES modules. Plain Node's ESM resolver ignores NODE_PATH. Node built-ins only.

import { pathToFileURL } from "node:url";
import { dirname, join } from "node:path";

let roots = [];

export function initialize(data) {
  roots = data.nodePath;
}

const bare = (s) => !s.startsWith(".") && !s.startsWith("/") && !/^[a-z][a-z0-9+.-]*:/i.test(s);

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (e) {
    if (e?.code !== "ERR_MODULE_NOT_FOUND" || !bare(specifier)) throw e;
    for (const dir of roots) {
      // resolving from a file beside the directory looks in <dir> first
      const parentURL = pathToFileURL(join(dirname(dir), "__lambda_runtime__.mjs")).href;
      try {
        return await next(specifier, { ...context, parentURL });
      } catch (inner) {
        if (inner?.code !== "ERR_MODULE_NOT_FOUND") throw inner;
      }
    }
    throw e;
  }
}
