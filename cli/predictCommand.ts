// `enkf predict <runDir | jobId> <rows.csv | rows.npy> [--out predictions.csv] [--probabilities]`:
// applies a trained model (model.json + theta.npy) to raw rows: CSV columns matched by name, the
// training standardization, labels in the original class names or targets in their original
// units (shared/predict). Bad input exits 2 with the row and column.

import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { DataError } from "../shared/data/errors.ts";
import { decodeNpy, decodeNpyFloat64 } from "../shared/formats/npy.ts";
import { parseModelCard, type ModelCard } from "../shared/predict/modelCard.ts";
import { predict, predictionsCsv, rowsFromCsv, rowsFromMatrix, type Rows } from "../shared/predict/predict.ts";
import { writeAtomic } from "./files.ts";
import { CliError, type Io } from "./io.ts";
import { finishedRun } from "./runDirectory.ts";

export interface PredictFlags {
  data: string;
  out?: string;
  probabilities: boolean;
  quiet: boolean;
}

/** The run's model card and θ (theta.npy: the best θ). */
export async function trainedModel(
  target: string,
  dataDir: string,
): Promise<{ card: ModelCard; theta: Float64Array; dir: string }> {
  const run = finishedRun(target, dataDir);
  if (!run.has("model.json"))
    throw new CliError(
      2,
      `${run.dir} has no model.json: only network problems (classification, regression) leave a model to apply`,
    );
  try {
    const card = parseModelCard(new TextDecoder().decode(await run.read("model.json")), `${run.dir}/model.json`);
    return { card, theta: decodeNpyFloat64(await run.read(card.theta.file)), dir: run.dir };
  } catch (e) {
    throw new CliError(2, (e as Error).message);
  }
}

async function readRows(card: ModelCard, file: string): Promise<Rows> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(2, `cannot read ${file}: ${code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  try {
    if (file.endsWith(".npy")) {
      const a = decodeNpy(bytes, file);
      if (typeof a.data[0] === "bigint")
        throw new DataError(`${file}: 64-bit integer rows are not supported; save them as float32 or float64`);
      return rowsFromMatrix(card, a.data as ArrayLike<number>, a.shape, file);
    }
    return rowsFromCsv(card, bytes.toString("utf8"), file);
  } catch (e) {
    throw new CliError(2, (e as Error).message);
  }
}

export async function predictCommand(target: string, rowsFile: string, flags: PredictFlags, io: Io): Promise<number> {
  const { card, theta } = await trainedModel(target, flags.data);
  const rows = await readRows(card, resolve(rowsFile));
  let csv: string;
  try {
    csv = predictionsCsv(card, predict(card, theta, rows), flags.probabilities);
  } catch (e) {
    throw new CliError(2, (e as Error).message);
  }
  if (flags.out === undefined) {
    io.stdout.write(csv);
    return 0;
  }
  const out = resolve(flags.out);
  await writeAtomic(out, csv);
  const probabilities = flags.probabilities ? " with probabilities" : "";
  const what =
    card.kind === "classification"
      ? `labels of ${card.outputs.length} classes${probabilities}`
      : card.outputs.join(", ");
  if (!flags.quiet) io.stdout.write(`wrote ${out}: ${rows.rows} predictions (${what})\n`);
  return 0;
}
