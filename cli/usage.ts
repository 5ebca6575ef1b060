// The enkf command's usage text, and one command's part of it for `enkf <command> --help`.

export const USAGE = `usage: enkf <command> [options]

commands:
  run <job.json> [--out DIR] [--quiet] [--force] [--store LOCATION] [--endpoint URL] [--init-from RUN]
      run a job on this machine; writes result.json, theta.npy, history.csv
      and spec.json into DIR (default runs/<name>-<timestamp>). A job with
      compute.shards, or given --store (a directory or s3://bucket/prefix,
      with --endpoint for S3-compatible servers), runs through the job's
      state machine, with its state and results in that store (default DIR;
      with both --store and --out, the results are copied to DIR as well).
      --init-from RUN warm-starts a network from a finished run directory
      (or an enkf serve job id): θ₀ is its theta.npy, when its model.json
      describes the same network
  resume <runDir | jobId> [--data DIR] [--endpoint URL] [--quiet]
      continue a job run through the state machine (compute.shards, --store,
      or enkf serve) from its last completed round; the final θ is the one
      an uninterrupted run gives. A job id is looked up in DIR/jobs (default
      runs/service)
  plan <job.json> [--shards N] [--memory MB] [--json]
      estimate the job's AWS run before launch: Lambda GB-seconds, Step
      Functions transitions, S3 requests, dollars and wall time, calibrated
      by timing one shard's evaluate task here (default N: compute.shards
      or 4; MB: 3008). An inverse job fans out over member blocks: N is
      then its compute.memberBlocks (1 to 40)
  watch <jobId | runDir> [--url URL] [--data DIR] [--interval S]
      follow a running job to its end: a progress bar (plain lines when not
      a terminal), the latest metrics and an ETA. --url follows it through
      enkf serve's API (token in ENKF_TOKEN); otherwise it is read from disk
  report <runDir | jobId> [--out FILE] [--data DIR]
      one self-contained HTML page for a finished run: plots, spec, final
      metrics, the timing breakdown and the environment (default FILE:
      report.html in the run's directory)
  predict <runDir | jobId> <rows.csv | rows.npy> [--out FILE] [--probabilities] [--data DIR]
      apply a trained model (the run's model.json and theta.npy, the best θ) to
      raw rows: CSV columns by name in any order (the label column may stay),
      or a .npy (rows, features) in model.json's order; the training
      standardization is applied. Writes a CSV of labels in the class names
      (with --probabilities, p_<class> columns) or of the targets, to FILE or
      stdout
  export <runDir | jobId> [--out FILE] [--data DIR]
      the trained model as a standalone ONNX file (default model.onnx in the
      run's directory): input x [batch, features] of raw rows, standardization
      inside; outputs logits, probabilities and label, or output (regression)
  data <job.json> [--out DIR] [--shards N] [--force]
      convert the job's dataset into the sharded binary format
      (manifest.json with sha256 per shard; default DIR <name>-data, N 4)
  serve [--port 8787] [--host 127.0.0.1] [--data DIR] [--endpoint URL] [--concurrency N] [--max-jobs M]
        [--memory MB] [--forward-hosts HOST[:PORT],…]
      the HTTP API on this machine: submit, watch, fetch and cancel jobs,
      register datasets, schedule jobs. Callers send Authorization: Bearer
      <token>: ENKF_TOKEN, or a fresh one printed at start (ENKF_READ_TOKEN:
      a read-only one). DIR (default runs/service) holds jobs, datasets and
      schedules; unfinished jobs resume when the server starts again. N jobs
      run at once (default 1), at most M queued or running (default 32)
  schema
      print the job spec as JSON Schema
  help
      show this text
`;

export const COMMANDS = [
  "run",
  "resume",
  "plan",
  "watch",
  "report",
  "predict",
  "export",
  "data",
  "serve",
  "schema",
  "help",
];

/** One command's part of the usage (its synopsis and description), or null for an unknown command. */
export function commandHelp(command: string): string | null {
  const lines = USAGE.split("\n");
  const start = lines.findIndex((l) => l === `  ${command}` || l.startsWith(`  ${command} `));
  if (start < 0) return null;
  let end = start + 1;
  while (end < lines.length && lines[end].startsWith("      ")) end++;
  return `usage: enkf ${lines[start].trim()}\n\n${lines
    .slice(start + 1, end)
    .map((l) => l.slice(4))
    .join("\n")}\n`;
}
