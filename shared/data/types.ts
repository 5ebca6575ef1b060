// In-memory datasets: float32 features, int32 class labels or float32 regression targets.

export interface Split {
  /** rows × features, row-major */
  x: Float32Array;
  /** class labels (classification) */
  labels?: Int32Array;
  /** rows × targets, row-major (regression) */
  targets?: Float32Array;
  rows: number;
}

export interface Dataset {
  kind: "classification" | "regression";
  features: number;
  /** number of classes, or of regression targets */
  outputs: number;
  /** class names in label order (classification) or target column names (regression) */
  names: string[];
  train: Split;
  /** the raw rows' column names: the features in order, and the label or target column */
  columns?: { features: string[]; label?: string };
  /** x_std = (x − mean)·scale per feature, from the training rows (tabular sources that standardize) */
  standardization?: { mean: number[]; scale: number[] };
  /** held out from the training rows for model selection (validation.ts); never trained on */
  validation?: Split;
  test: Split;
}
