// `enkf export <runDir | jobId> [--out model.onnx]`: the trained network as a standalone ONNX
// model (shared/predict/onnxExport.ts); default FILE model.onnx in the run's directory.

import { join, resolve } from "node:path";
import { exportOnnx } from "../shared/predict/onnxExport.ts";
import { writeAtomic } from "./files.ts";
import type { Io } from "./io.ts";
import { trainedModel } from "./predictCommand.ts";

export async function exportCommand(
  target: string,
  flags: { data: string; out?: string; quiet: boolean },
  io: Io,
): Promise<number> {
  const { card, theta, dir } = await trainedModel(target, flags.data);
  const bytes = exportOnnx(card, theta);
  const out = resolve(flags.out ?? join(dir, "model.onnx"));
  await writeAtomic(out, bytes);
  if (!flags.quiet) {
    const io_ = card.kind === "classification" ? "outputs logits, probabilities, label" : "output";
    io.stdout.write(
      `wrote ${out} (${(bytes.length / 1024).toFixed(0)} KiB): input x [batch, ` +
        `${card.features.length}] (raw features, standardized inside), ${io_}\n`,
    );
  }
  return 0;
}
