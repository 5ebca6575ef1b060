// log and sin/cos for the Box–Muller transform in plain arithmetic (+, −, ×, ÷, sqrt only), so the
// same operations, in the same order, give the same bits in JavaScript and in the WebAssembly
// generator (philox.wat), on every platform. Relative error below 1e-14 on the domains used
// (checked against Math.log/sin/cos in the tests).

const LN2 = 0.6931471805599453;
const SQRT2 = 1.4142135623730951;
/** π/4 and the step of a 29-bit fraction of an eighth turn */
const QUARTER_PI = 0.7853981633974483;
const OCTANT_STEP = QUARTER_PI / 536870912;

/**
 * ln((w + ½)·2^−32) for an integer 0 ≤ w < 2^32, the log of rng.ts's 32-bit uniform:
 * w + ½ = m·2^e with m ∈ [√½, √2), then ln m = 2·atanh(s), s = (m − 1)/(m + 1), |s| < 0.1716.
 */
export function logUniform32(w: number): number {
  let e = w === 0 ? -1 : 31 - Math.clz32(w);
  // m = (w + ½)·2^−e, exact (a power-of-two scaling)
  let m = (w + 0.5) * pow2(-e);
  if (m >= SQRT2) { m = m * 0.5; e = e + 1; }
  const s = (m - 1) / (m + 1);
  const s2 = s * s;
  // 2·atanh(s) = 2(s + s³/3 + … + s¹⁷/17); |s|^19/19 < 1e-16
  const p = 1 + s2 * (C3 + s2 * (C5 + s2 * (C7 + s2 * (C9 + s2 * (C11 + s2 * (C13 + s2 * (C15 + s2 * C17)))))));
  return 2 * s * p + (e - 32) * LN2;
}

const C3 = 1 / 3, C5 = 1 / 5, C7 = 1 / 7, C9 = 1 / 9, C11 = 1 / 11, C13 = 1 / 13, C15 = 1 / 15, C17 = 1 / 17;

/** 2^k for an integer −1074 < k < 1024 (exact). */
function pow2(k: number): number {
  return k >= 0 ? POW2[k] : 1 / POW2[-k];
}
const POW2 = Float64Array.from({ length: 64 }, (_, k) => 2 ** k);

// reciprocals of the series' denominators, each one IEEE division (philox.wat computes the same)
const R2 = 1 / 2, R6 = 1 / 6, R12 = 1 / 12, R20 = 1 / 20, R30 = 1 / 30, R42 = 1 / 42, R56 = 1 / 56, R72 = 1 / 72;
const R90 = 1 / 90, R110 = 1 / 110, R132 = 1 / 132, R156 = 1 / 156, R182 = 1 / 182, R210 = 1 / 210, R240 = 1 / 240;

function sinSmall(t: number): number {
  const t2 = t * t;
  return t * (1 - t2 * R6 * (1 - t2 * R20 * (1 - t2 * R42 * (1 - t2 * R72 * (1 - t2 * R110 * (1 - t2 * R156 * (1 - t2 * R210)))))));
}
function cosSmall(t: number): number {
  const t2 = t * t;
  return 1 - t2 * R2 * (1 - t2 * R12 * (1 - t2 * R30 * (1 - t2 * R56 * (1 - t2 * R90 * (1 - t2 * R132 * (1 - t2 * R182 * (1 - t2 * R240)))))));
}

/** out[0] = cos(2πu), out[1] = sin(2πu) for u = w·2^−32, w an integer in [0, 2^32). */
export function sinCosTurn32(w: number, out: Float64Array): void {
  // the octant from the top 3 bits, the angle within it from the other 29
  const octant = w >>> 29;
  let t = (w & 0x1fffffff) * OCTANT_STEP;
  if (octant & 1) t = QUARTER_PI - t;
  const s = sinSmall(t), c = cosSmall(t);
  switch (octant) {
    case 0: out[0] = c; out[1] = s; break;
    case 1: out[0] = s; out[1] = c; break;
    case 2: out[0] = -s; out[1] = c; break;
    case 3: out[0] = -c; out[1] = s; break;
    case 4: out[0] = -c; out[1] = -s; break;
    case 5: out[0] = -s; out[1] = -c; break;
    case 6: out[0] = s; out[1] = -c; break;
    default: out[0] = c; out[1] = -s; break;
  }
}
