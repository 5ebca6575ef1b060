// Elementwise activations shared by every backend, defined once here. GELU is the tanh form
// 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))), which every backend (ONNX, gpu.js, this reference)
// can express with the same operations.

export type Activation = "tanh" | "relu" | "sigmoid" | "gelu";

export const GELU_C = Math.sqrt(2 / Math.PI);

export function activate(kind: Activation, x: number): number {
  switch (kind) {
    case "tanh":
      return Math.tanh(x);
    case "relu":
      return x > 0 ? x : 0;
    case "sigmoid":
      return 1 / (1 + Math.exp(-x));
    case "gelu":
      return 0.5 * x * (1 + Math.tanh(GELU_C * (x + 0.044715 * x * x * x)));
  }
}

/** Applies the activation in place to a[0..n). */
export function activateInPlace(kind: Activation, a: Float64Array, n = a.length): void {
  switch (kind) {
    case "tanh":
      for (let i = 0; i < n; i++) a[i] = Math.tanh(a[i]);
      break;
    case "relu":
      for (let i = 0; i < n; i++) if (!(a[i] > 0)) a[i] = 0;
      break;
    case "sigmoid":
      for (let i = 0; i < n; i++) a[i] = 1 / (1 + Math.exp(-a[i]));
      break;
    case "gelu":
      for (let i = 0; i < n; i++) a[i] = activate("gelu", a[i]);
      break;
  }
}
