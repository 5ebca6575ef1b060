// The error every data source throws for bad input; its message names the file and, where there is
// one, the line and column.

export class DataError extends Error {
  override name = "DataError";
}
