// Up-front memory check for the in-process ensemble workspaces, so an oversized job fails with
// a message that says what to change instead of a typed-array allocation error.

/** Largest workspace the in-process optimizers allocate (float64 values): 2^31 values = 16 GiB. */
export const MAX_WORKSPACE_VALUES = 2 ** 31;

export function checkWorkspace(what: string, values: number, hint: string): void {
  if (values > MAX_WORKSPACE_VALUES) {
    const gib = (values * 8) / 2 ** 30;
    throw new Error(
      `${what} would need ${gib.toFixed(1)} GiB (${values.toExponential(2)} float64 values, ` +
        `limit ${(MAX_WORKSPACE_VALUES * 8) / 2 ** 30} GiB); ${hint}`,
    );
  }
}
