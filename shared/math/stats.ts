// Summary statistics used in results and tests: ordinary least-squares line fit.

export interface LineFit {
  slope: number;
  intercept: number;
  /** coefficient of determination R² */
  r2: number;
}

/** Fits y ≈ intercept + slope·x by least squares. */
export function fitLine(x: ArrayLike<number>, y: ArrayLike<number>): LineFit {
  const n = x.length;
  if (n < 2 || y.length !== n) throw new RangeError("fitLine needs at least two (x, y) pairs of equal length");
  let mx = 0,
    my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxx = 0,
    sxy = 0,
    syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx,
      dy = y[i] - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  const r2 = sxx > 0 && syy > 0 ? (sxy * sxy) / (sxx * syy) : 1;
  return { slope, intercept: my - slope * mx, r2 };
}
