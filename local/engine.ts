// Runs a job's state machine (shared/workflow/definition.ts, the definition the CDK app deploys) in
// this process with aws-local-stepfunctions: each Task state is mapped, by name, to the handler
// the Lambda function would run. The store is a local directory or an s3:// location.

import "./withResolvers.ts";
import { StateMachine } from "aws-local-stepfunctions";
import { workflowDefinition } from "../shared/workflow/definition.ts";
import { evaluateFault, faultPlan } from "./faults.ts";
import { localCrash, localHandlers as handlers } from "./handlers.ts";
import { readConfig } from "../shared/config.ts";
import { batchEvent, overrideEnvironment } from "../shared/workflow/batchEvent.ts";
import { evaluatePool } from "./evaluatePool.ts";
import { resumeInput, type JobRef } from "../shared/workflow/handlers.ts";

/** The run was stopped through its AbortSignal; the rounds it completed stay in the store. */
export class CancelledError extends Error {
  override name = "CancelledError";
}

/** Placeholder ARNs: locally every Task state runs its handler instead. */
const local = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:enkf-${name}`;

/** Placeholder ARNs of the GPU option's Batch queue and job definition. */
export const localGpu = {
  jobQueue: "arn:aws:batch:us-east-1:000000000000:job-queue/enkf-gpu",
  jobDefinition: "arn:aws:batch:us-east-1:000000000000:job-definition/enkf-gpu-evaluate",
};

/** The deployed definition with placeholder ARNs; `gpu` includes the GPU option's Batch branch. */
export function localDefinition(maxConcurrency = 4, gpu = true): Record<string, unknown> {
  return workflowDefinition(
    {
      launch: local("launch"),
      init: local("init"),
      evaluate: local("evaluate"),
      reduce: local("reduce"),
      finalize: local("finalize"),
      recordFailure: local("record-failure"),
      outcome: local("outcome"),
      eventBus: "enkf-local",
      ...(gpu ? { gpu: localGpu } : {}),
    },
    { maxConcurrency },
  );
}

export interface LocalRun {
  job: JobRef;
  maxConcurrency?: number;
  /** rounds per execution before continue-as-new (default: rolloverRounds of the shard count) */
  rolloverEvery?: number;
  /** worker threads for the evaluate tasks (default 0: on this thread) */
  workers?: number;
  /** continue from the job's last completed round (an interrupted run), if it has one */
  resume?: boolean;
  /** stops the execution between states (cancel); the run then rejects with CancelledError */
  signal?: AbortSignal;
  /** the Launch state's handler (a schedule's firing creates its job); the service supplies it */
  launch?: (event: unknown) => Promise<unknown>;
  /** the Outcome state's handler (the service's: it promotes); default: status and metrics only */
  outcome?: (event: unknown) => Promise<unknown>;
  /** receives the outcome event's detail (Publish outcome; EventBridge on AWS) */
  publish?: (detail: unknown) => void | Promise<void>;
  /** stands in for Lambda's Invoke of a lambda forward (tests; on AWS the state machine invokes the function) */
  invokeForward?: (functionArn: string, payload: unknown) => Promise<unknown>;
  /** the execution input instead of a new job's (e.g. a schedule's {launch}) */
  input?: unknown;
  /** receives every execution event (state entered/exited with its input and output, …) */
  onEvent?: (event: { type: string; state?: { name: string; input: unknown; output?: unknown } }) => void;
}

/**
 * Runs the prepared job (spec and dataset already in its store) to its end, one execution after
 * another when the machine continues as new; returns the last execution's output and how many
 * executions ran.
 */
export async function runLocalWorkflow(run: LocalRun): Promise<{ status: string; executions: number; faults: number }> {
  const machine = new StateMachine(
    localDefinition(run.maxConcurrency) as unknown as ConstructorParameters<typeof StateMachine>[0],
  );
  const resumed = run.resume ? await resumeInput(run.job, run.rolloverEvery) : null;
  const input: unknown = run.input ??
    resumed ?? {
      job: run.job,
      startedAt: Date.now(),
      ...(run.rolloverEvery ? { rolloverEvery: run.rolloverEvery } : {}),
    };
  const pool = run.workers ? evaluatePool(run.workers) : null;
  const evaluate = withFaults(pool ? (event: unknown) => pool.run(event) : handlers.evaluate);
  try {
    return { ...(await executeAll(machine, input, run, evaluate)), faults: evaluate.injected() };
  } finally {
    await pool?.close();
  }
}

/**
 * The evaluate handler with ENKF_FAULTS' injected failures (faults.ts): a transient one is
 * a Lambda service error the state machine's Retry matches, a permanent one matches none.
 */
function withFaults(evaluate: (event: unknown) => Promise<unknown>) {
  const plan = faultPlan(readConfig().faults);
  const attempts = new Map<string, number>();
  let injected = 0;
  const wrapped = async (event: unknown) => {
    // the shards' evaluate tasks (a reduction tree's combine tasks run on the same function)
    if (plan && (event as { op?: string }).op !== "combine") {
      const e = event as { round: number; item: number };
      const key = `${e.round}/${e.item}`;
      const attempt = attempts.get(key) ?? 0;
      attempts.set(key, attempt + 1);
      const kind = evaluateFault(plan, e.round, e.item, attempt);
      if (kind) {
        injected++;
        const err = new Error(`injected ${kind} fault: round ${e.round}, item ${e.item}, attempt ${attempt + 1}`);
        err.name = kind === "transient" ? "Lambda.ServiceException" : "InjectedFault";
        throw err;
      }
    }
    return evaluate(event);
  };
  return Object.assign(wrapped, { injected: () => injected, active: plan !== null });
}

async function executeAll(
  machine: StateMachine,
  first: unknown,
  run: LocalRun,
  evaluate: ((event: unknown) => Promise<unknown>) & { active: boolean },
): Promise<{ status: string; executions: number }> {
  // injected faults are retried at once rather than after the deployed backoff
  const retryIntervalOverrides = evaluate.active
    ? Object.fromEntries(
        ["Evaluate", "Evaluate (distributed)", "Evaluate (gpu)", "Evaluate (gpu, distributed)", "Evaluate members"].map(
          (n) => [n, 5],
        ),
      )
    : undefined;
  const task = evaluate as unknown as (input: unknown) => Promise<never>;
  let input = first;
  for (let executions = 1; ; executions++) {
    const execution = machine.run(input as Parameters<typeof machine.run>[0], {
      overrides: {
        taskResourceLocalHandlers: {
          Launch:
            (run.launch as ((input: unknown) => Promise<never>) | undefined) ??
            (async () => {
              throw new Error(
                "this engine was started without a Launch handler (schedules launch jobs through the service)",
              );
            }),
          Init: handlers.init,
          Evaluate: task,
          "Evaluate (distributed)": task,
          // an inverse job's member blocks; a lambda forward's blocks: request, invocation, store
          "Evaluate members": task,
          "Block request": task,
          "Forward (lambda)": async (params) => {
            const p = params as { FunctionName: string; Payload: unknown };
            if (!run.invokeForward)
              throw new Error(
                `a lambda forward (${p.FunctionName}) is invoked by the deployed state machine on AWS; ` +
                  `this local engine was started without one`,
              );
            return { Payload: await run.invokeForward(p.FunctionName, p.Payload) } as never;
          },
          "Store block": task,
          "Store failed block": task,
          // the reduction tree's nodes
          "Sum partials": task,
          // the GPU branch's Batch jobs: the container's event from the submitJob parameters
          "Evaluate (gpu)": (params) => task(batchEvent(overrideEnvironment(params))),
          "Evaluate (gpu, distributed)": (params) => task(batchEvent(overrideEnvironment(params))),
          Reduce: async (event) => {
            const out = await handlers.reduce(event);
            localCrash("between", (event as { round: number }).round);
            return out;
          },
          Finalize: handlers.finalize,
          RecordFailure: handlers.recordFailure,
          Outcome:
            (run.outcome as ((input: unknown) => Promise<never>) | undefined) ??
            (handlers.outcome as (input: unknown) => Promise<never>),
          // PutEvents: locally the detail goes to the caller's publish
          "Publish outcome": async (params) => {
            for (const entry of (params as { Entries: { Detail: unknown }[] }).Entries)
              await run.publish?.(entry.Detail);
            return { FailedEntryCount: 0 } as never;
          },
          // StartExecution of this machine: locally the engine starts the next execution itself
          Rollover: async (params) => ({ continueAs: (params as { Input: { [key: string]: never } }).Input }),
        },
        ...(retryIntervalOverrides ? { retryIntervalOverrides } : {}),
      },
      context: {
        StateMachine: { Id: "arn:aws:states:us-east-1:000000000000:stateMachine:enkf-local" },
        Execution: { Id: `local-${executions}` },
      },
    });
    if (run.signal?.aborted) throw new CancelledError("the job was cancelled");
    const abort = () => execution.abort();
    run.signal?.addEventListener("abort", abort, { once: true });
    const events = run.onEvent
      ? (async () => {
          for await (const e of execution.eventLogs) run.onEvent!(e as Parameters<NonNullable<LocalRun["onEvent"]>>[0]);
        })()
      : Promise.resolve();
    let out: { status?: string; result?: string; continueAs?: unknown };
    try {
      out = (await execution.result) as typeof out;
    } catch (e) {
      if (run.signal?.aborted) throw new CancelledError("the job was cancelled");
      throw e;
    } finally {
      run.signal?.removeEventListener("abort", abort);
      await events.catch(() => undefined);
    }
    // the run's stop reason (converged, max_iterations, …), as Finalize reported it
    if (out.continueAs === undefined) return { status: out.result ?? out.status ?? "unknown", executions };
    input = out.continueAs;
  }
}
