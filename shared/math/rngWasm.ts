// Loads the WebAssembly Gaussian generator (philox.wat, embedded as philoxWasm.ts) once per thread,
// copies the ziggurat tables in, and fills whole Philox blocks with it; the few words its fast
// path leaves (marked NaNs carrying the word) take the JavaScript slow path here. Same bits as
// the JavaScript path, several times faster.

import { PHILOX_WASM_BASE64 } from "./philoxWasm.ts";
import { slowGaussian, ZIG_K, ZIG_W } from "./ziggurat.ts";

// the few WebAssembly JS-API types used here (@types/node's lib has no WebAssembly.Instance)
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface PhiloxExports {
  memory: { buffer: ArrayBuffer };
  /** returns how many values need the slow path; their indices are in the slow list */
  fill_gaussian(
    b0: number,
    blocks: number,
    member: number,
    iteration: number,
    stream: number,
    k0: number,
    k1: number,
    scale: number,
  ): number;
}

/** blocks per call: the first MiB of memory holds 131,072 float64 values */
const MAX_BLOCKS = 32768;
/** byte offsets of the ziggurat tables and the slow list (philox.wat) */
const K_AT = 1 << 20,
  W_AT = K_AT + 1024,
  SLOW_AT = K_AT + 4096;
let loaded: { exports: PhiloxExports; values: Float64Array; words: Uint32Array; slow: Int32Array } | null = null;

function instance(): NonNullable<typeof loaded> {
  if (!loaded) {
    const bytes = Uint8Array.from(atob(PHILOX_WASM_BASE64), (ch) => ch.charCodeAt(0));
    const exports = new wasmApi.Instance(new wasmApi.Module(bytes), {}).exports as PhiloxExports;
    const { buffer } = exports.memory;
    new Uint32Array(buffer, K_AT, ZIG_K.length).set(ZIG_K);
    new Float64Array(buffer, W_AT, ZIG_W.length).set(ZIG_W);
    loaded = {
      exports,
      values: new Float64Array(buffer, 0, 4 * MAX_BLOCKS),
      words: new Uint32Array(buffer, 0, 8 * MAX_BLOCKS),
      slow: new Int32Array(buffer, SLOW_AT, 4 * MAX_BLOCKS),
    };
  }
  return loaded;
}

/** out[offset …] ← 4·blocks Gaussians × scale for Philox blocks b0 … b0+blocks−1. */
export function fillGaussianBlocks(
  out: Float64Array,
  offset: number,
  b0: number,
  blocks: number,
  member: number,
  iteration: number,
  stream: number,
  k0: number,
  k1: number,
  scale: number,
): void {
  const { exports: w, values, words, slow } = instance();
  for (let done = 0; done < blocks; done += MAX_BLOCKS) {
    const n = Math.min(MAX_BLOCKS, blocks - done);
    const slowCount = w.fill_gaussian((b0 + done) | 0, n, member | 0, iteration | 0, stream | 0, k0 | 0, k1 | 0, scale);
    const at = offset + 4 * done,
      first = 4 * (b0 + done);
    out.set(values.subarray(0, 4 * n), at);
    for (let s = 0; s < slowCount; s++) {
      const t = slow[s];
      // little-endian: the low 32 bits of value t (the marked NaN) are word 2t
      out[at + t] = scale * slowGaussian(words[2 * t], first + t, member, iteration, stream, k0, k1);
    }
  }
}
