// log and exp for the Gaussian generator (ziggurat.ts) in plain arithmetic (+, −, ×, ÷, sqrt and
// exact power-of-two scalings only), so the same operations give the same bits on every platform,
// whatever its libm. Relative error below 1e-14 on the domains used (checked against Math.log and
// Math.exp in the tests).

const LN2 = 0.6931471805599453;
const SQRT2 = 1.4142135623730951;
const SQRT_HALF = 0.7071067811865476;

/**
 * ln((w + ½)·2^−32) for an integer 0 ≤ w < 2^32, the log of rng.ts's 32-bit uniform:
 * w + ½ = m·2^e with m ∈ [√½, √2), then ln m = 2·atanh(s), s = (m − 1)/(m + 1), |s| < 0.1716.
 */
export function logUniform32(w: number): number {
  let e = w === 0 ? -1 : 31 - Math.clz32(w);
  // m = (w + ½)·2^−e, exact (a power-of-two scaling)
  let m = (w + 0.5) * pow2(-e);
  if (m >= SQRT2) {
    m = m * 0.5;
    e = e + 1;
  }
  return logMantissa(m) + (e - 32) * LN2;
}

/** ln m for m ∈ [√½, √2): 2·atanh(s) with s = (m − 1)/(m + 1), |s| < 0.1716. */
function logMantissa(m: number): number {
  const s = (m - 1) / (m + 1);
  const s2 = s * s;
  // 2·atanh(s) = 2(s + s³/3 + … + s¹⁷/17); |s|^19/19 < 1e-16
  const p = 1 + s2 * (C3 + s2 * (C5 + s2 * (C7 + s2 * (C9 + s2 * (C11 + s2 * (C13 + s2 * (C15 + s2 * C17)))))));
  return 2 * s * p;
}

/** ln y for 2^−60 < y < 2^60 (the ziggurat's table construction). */
export function logPositive(y: number): number {
  if (!(y > 2 ** -60 && y < 2 ** 60)) throw new RangeError(`logPositive takes 2^-60 < y < 2^60, got ${y}`);
  let m = y,
    e = 0;
  while (m >= SQRT2) {
    m *= 0.5;
    e++;
  }
  while (m < SQRT_HALF) {
    m *= 2;
    e--;
  }
  return logMantissa(m) + e * LN2;
}

// ln 2 split so that k·LN2_HI is exact for |k| < 2^11 (Cody–Waite)
const LN2_HI = 6.9314718036912381649e-1;
const LN2_LO = 1.90821492927058770002e-10;
const E = Float64Array.from({ length: 14 }, (_, i) => 1 / (i + 1));

/** e^x for −40 < x < 40: x = k·ln 2 + r with |r| ≤ ½ ln 2, e^r by its Taylor series to r¹⁴. */
export function expSmall(x: number): number {
  if (!(x > -40 && x < 40)) throw new RangeError(`expSmall takes −40 < x < 40, got ${x}`);
  const k = Math.round(x / LN2);
  const r = x - k * LN2_HI - k * LN2_LO;
  let p = 1;
  for (let i = 13; i >= 0; i--) p = 1 + r * E[i] * p;
  return p * pow2(k);
}

const C3 = 1 / 3,
  C5 = 1 / 5,
  C7 = 1 / 7,
  C9 = 1 / 9,
  C11 = 1 / 11,
  C13 = 1 / 13,
  C15 = 1 / 15,
  C17 = 1 / 17;

/** 2^k for an integer −1074 < k < 1024 (exact). */
function pow2(k: number): number {
  return k >= 0 ? POW2[k] : 1 / POW2[-k];
}
const POW2 = Float64Array.from({ length: 64 }, (_, k) => 2 ** k);
