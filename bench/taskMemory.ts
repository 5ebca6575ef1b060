// One task of a kept job's round, in a process of its own, as a Lambda function runs it: its
// output removed first (tasks are idempotent and would otherwise find it written), then the
// handler called with the state machine's event. Prints one JSON line: the task and its peak RSS.
// `tsx bench/taskMemory.ts <store> evaluate|combine|reduce <round> [item] [level]`
// (bench/largeEnsembles.ts spawns it on a job run with compute.keepRounds).

import { rmSync } from "node:fs";
import { join } from "node:path";
import { workflowHandlers } from "../shared/workflow/handlers.ts";
import { keys } from "../shared/workflow/jobStore.ts";

const [store, task, roundText, itemText = "0", levelText = "1"] = process.argv.slice(2);
const [round, item, level] = [roundText, itemText, levelText].map(Number);
const rm = (key: string) => {
  rmSync(join(store, key), { force: true });
  rmSync(join(store, `${key}.sha256`), { force: true });
};
const handlers = workflowHandlers({ gpuOption: false });
const job = { store };
const t0 = performance.now();
if (task === "evaluate") {
  rm(keys.partial(round, item));
  await handlers.evaluate({ job, round, item, op: "evaluate" });
} else if (task === "combine") {
  rm(keys.sum(round, level, item));
  await handlers.evaluate({ job, round, item, level, op: "combine" });
} else if (task === "reduce") {
  rm(keys.state(round + 1));
  await handlers.reduce({
    job,
    round,
    items: [0],
    done: false,
    branch: "shards",
    rollover: false,
    startRound: 0,
    rolloverEvery: 1000,
    startedAt: Date.now(),
  });
} else throw new Error(`unknown task ${task}`);
console.log(
  JSON.stringify({
    task,
    round,
    item,
    seconds: (performance.now() - t0) / 1000,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  }),
);
