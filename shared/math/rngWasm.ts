// Loads the WebAssembly Gaussian generator (philox.wat, embedded as philoxWasm.ts) once per thread
// and fills whole Philox blocks with it. Same bits as the JavaScript path, several times faster.

import { PHILOX_WASM_BASE64 } from "./philoxWasm.ts";

// the few WebAssembly JS-API types used here (@types/node's lib has no WebAssembly.Instance)
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface PhiloxExports {
  memory: { buffer: ArrayBuffer };
  fill_gaussian(b0: number, blocks: number, member: number, iteration: number, stream: number, k0: number, k1: number, scale: number): void;
}

/** blocks per call: 16 pages of memory hold 131,072 float64 values */
const MAX_BLOCKS = 32768;
let exports: PhiloxExports | null = null;

function instance(): PhiloxExports {
  if (!exports) {
    const bytes = Uint8Array.from(atob(PHILOX_WASM_BASE64), (ch) => ch.charCodeAt(0));
    exports = new wasmApi.Instance(new wasmApi.Module(bytes), {}).exports as PhiloxExports;
  }
  return exports;
}

/** out[offset …] ← 4·blocks Gaussians × scale for Philox blocks b0 … b0+blocks−1. */
export function fillGaussianBlocks(out: Float64Array, offset: number, b0: number, blocks: number, member: number, iteration: number, stream: number, k0: number, k1: number, scale: number): void {
  const w = instance();
  const view = new Float64Array(w.memory.buffer);
  for (let done = 0; done < blocks; done += MAX_BLOCKS) {
    const n = Math.min(MAX_BLOCKS, blocks - done);
    w.fill_gaussian((b0 + done) | 0, n, member | 0, iteration | 0, stream | 0, k0 | 0, k1 | 0, scale);
    out.set(view.subarray(0, 4 * n), offset + 4 * done);
  }
}
