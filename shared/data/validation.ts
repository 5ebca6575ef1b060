// The validation split: the last `fraction` of the (already shuffled) training rows, held out for
// model selection: the best θ and early stopping are chosen on it, never on the test split.
// Pure and without copies (subarrays of the training split). A dataset that already holds a
// validation split (a shard directory written by `enkf data`) keeps it.

import { DataError } from "./errors.ts";
import type { Dataset, Split } from "./types.ts";

function rowsOf(ds: Dataset, s: Split, from: number, to: number): Split {
  const d = ds.features,
    c = ds.outputs;
  return {
    x: s.x.subarray(from * d, to * d),
    ...(s.labels ? { labels: s.labels.subarray(from, to) } : {}),
    ...(s.targets ? { targets: s.targets.subarray(from * c, to * c) } : {}),
    rows: to - from,
  };
}

export function withValidation(ds: Dataset, fraction: number, where: string): Dataset {
  if (ds.validation || fraction === 0) return ds;
  const rows = ds.train.rows,
    held = Math.round(rows * fraction);
  if (held < 1)
    throw new DataError(
      `${where}: validationFraction ${fraction} of ${rows} training rows holds out no row (use 0 ` +
        `for no validation split, or a larger fraction)`,
    );
  if (rows - held < 1) throw new DataError(`${where}: validationFraction ${fraction} leaves no training rows`);
  return { ...ds, train: rowsOf(ds, ds.train, 0, rows - held), validation: rowsOf(ds, ds.train, rows - held, rows) };
}
