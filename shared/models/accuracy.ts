// Classification accuracy from model outputs: the predicted class of a row is its largest output
// (the first one on ties), the same rule on every backend.

/** How many of `rows` rows of f (rows × c, row-major) predict labels[r]. */
export function countCorrect(f: ArrayLike<number>, labels: ArrayLike<number>, rows: number, c: number): number {
  let correct = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * c;
    let best = 0;
    for (let k = 1; k < c; k++) if (f[o + k] > f[o + best]) best = k;
    if (best === labels[r]) correct++;
  }
  return correct;
}
