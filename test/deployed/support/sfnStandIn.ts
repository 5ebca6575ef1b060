// Step Functions for the deployed-artifacts stage: the synthesized definition executed by
// aws-local-stepfunctions behind the part of the Step Functions API the service calls
// (StartExecution, ListExecutions, StopExecution, DescribeExecution; JSON 1.0 protocol), so the
// `api` bundle's SFN client reaches it through AWS_ENDPOINT_URL_SFN. Lambda tasks are not
// overridden: aws-local-stepfunctions calls each Resource ARN through the SDK's Lambda client,
// which reaches the Invoke endpoint. The service integrations are emulated: lambda:invoke through
// the same client, states:startExecution starts another execution here (continue-as-new), and
// events:putEvents is recorded.

import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import type { IncomingMessage, ServerResponse } from "node:http";
import { StateMachine } from "aws-local-stepfunctions";
import "../../../local/withResolvers.ts";

export interface Execution {
  executionArn: string;
  name: string;
  input: string;
  status: "RUNNING" | "SUCCEEDED" | "FAILED" | "ABORTED" | "TIMED_OUT";
  startDate: Date;
  stopDate?: Date;
  output?: string;
  error?: string;
  cause?: string;
  /** settles when the execution ends */
  ended: Promise<void>;
  abort?: () => void;
}

export interface SfnStandInOptions {
  stateMachineArn: string;
  definition: Record<string, unknown>;
  /** added to the input of executions that lack it (a small continue-as-new interval for a test) */
  inputDefaults?: () => Record<string, unknown>;
}

class ApiFault extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export class SfnStandIn {
  readonly executions: Execution[] = [];
  /** the outcome events Publish outcome put (EventBridge stand-in) */
  readonly events: { DetailType: string; Source: string; EventBusName: string; Detail: unknown }[] = [];
  private readonly machine: StateMachine;
  private readonly lambda = new LambdaClient({});

  constructor(private readonly opts: SfnStandInOptions) {
    this.machine = new StateMachine(opts.definition as unknown as ConstructorParameters<typeof StateMachine>[0]);
  }

  /** StartExecution: a name in use answers its execution when the input is the same, else ExecutionAlreadyExists. */
  start(name: string, input: string): Execution {
    const existing = this.executions.find((x) => x.name === name);
    if (existing) {
      if (existing.input === input && existing.status === "RUNNING") return existing;
      throw new ApiFault("ExecutionAlreadyExists", `Execution Already Exists: '${existing.executionArn}'`);
    }
    const executionArn = this.opts.stateMachineArn.replace(":stateMachine:", ":execution:") + `:${name}`;
    const parsed = { ...(this.opts.inputDefaults?.() ?? {}), ...(JSON.parse(input) as object) };
    const x: Execution = {
      executionArn,
      name,
      input,
      status: "RUNNING",
      startDate: new Date(),
      ended: Promise.resolve(),
    };
    const run = this.machine.run(parsed as never, {
      overrides: { taskResourceLocalHandlers: this.integrations() as never },
      context: {
        StateMachine: { Id: this.opts.stateMachineArn, Name: this.opts.stateMachineArn.split(":").pop()! },
        Execution: { Id: executionArn, Name: name, StartTime: x.startDate.toISOString(), Input: parsed },
      } as never,
    });
    x.abort = () => run.abort();
    x.ended = run.result
      .then(
        (out) => {
          x.status = "SUCCEEDED";
          x.output = JSON.stringify(out);
        },
        (e: Error & { cause?: Error }) => {
          if (e.name === "ExecutionAbortedError") {
            if (x.status === "RUNNING") x.status = "ABORTED";
            return;
          }
          x.status = e.name === "ExecutionTimeoutError" ? "TIMED_OUT" : "FAILED";
          x.error = e.cause?.name ?? e.name;
          x.cause = e.cause?.message ?? e.message;
        },
      )
      .finally(() => {
        x.stopDate = new Date();
      });
    this.executions.push(x);
    return x;
  }

  /** The service integrations of the definition (its non-Lambda Task resources), by state name. */
  private integrations(): Record<string, (input: unknown) => Promise<unknown>> {
    return {
      "Forward (lambda)": async (params) => {
        const p = params as { FunctionName: string; Payload: unknown };
        const r = await this.lambda.send(
          new InvokeCommand({ FunctionName: p.FunctionName, Payload: Buffer.from(JSON.stringify(p.Payload)) }),
        );
        const payload = JSON.parse(Buffer.from(r.Payload ?? Buffer.from("null")).toString("utf8"));
        if (r.FunctionError)
          throw Object.assign(new Error(payload?.errorMessage ?? "the function failed"), {
            name: payload?.errorType ?? "Lambda.Unknown",
          });
        return { Payload: payload, StatusCode: r.StatusCode, ExecutedVersion: r.ExecutedVersion };
      },
      "Publish outcome": async (params) => {
        const entries = (params as { Entries: SfnStandIn["events"] }).Entries;
        this.events.push(...entries);
        return {
          Entries: entries.map((_, i) => ({ EventId: `event-${this.events.length + i}` })),
          FailedEntryCount: 0,
        };
      },
      Rollover: async (params) => {
        const p = params as { StateMachineArn: string; Name: string; Input: unknown };
        if (p.StateMachineArn !== this.opts.stateMachineArn)
          throw Object.assign(new Error(`no state machine ${p.StateMachineArn}`), {
            name: "StepFunctions.StateMachineDoesNotExistException",
          });
        const x = this.start(p.Name, JSON.stringify(p.Input));
        return { ExecutionArn: x.executionArn, StartDate: x.startDate.toISOString() };
      },
    };
  }

  stop(executionArn: string, error?: string, cause?: string): Date {
    const x = this.executions.find((e) => e.executionArn === executionArn);
    if (!x) throw new ApiFault("ExecutionDoesNotExist", `Execution Does Not Exist: '${executionArn}'`);
    if (x.status === "RUNNING") {
      x.status = "ABORTED";
      x.error = error;
      x.cause = cause;
      x.abort?.();
    }
    return new Date();
  }

  /** Answers a Step Functions API call (X-Amz-Target: AWSStepFunctions.*); false for other requests. */
  handle(req: IncomingMessage, res: ServerResponse, body: Buffer): boolean {
    const target = String(req.headers["x-amz-target"] ?? "");
    if (req.method !== "POST" || !target.startsWith("AWSStepFunctions.")) return false;
    const reply = (status: number, value: unknown) => {
      res.writeHead(status, { "content-type": "application/x-amz-json-1.0" });
      res.end(JSON.stringify(value));
    };
    const seconds = (d?: Date) => (d ? d.getTime() / 1000 : undefined);
    try {
      const p = JSON.parse(body.toString("utf8") || "{}") as Record<string, string | number | undefined>;
      const op = target.slice("AWSStepFunctions.".length);
      if ((op === "StartExecution" || op === "ListExecutions") && p.stateMachineArn !== this.opts.stateMachineArn) {
        throw new ApiFault("StateMachineDoesNotExist", `State Machine Does Not Exist: '${p.stateMachineArn}'`);
      }
      if (op === "StartExecution") {
        const x = this.start(String(p.name ?? crypto.randomUUID()), String(p.input ?? "{}"));
        reply(200, { executionArn: x.executionArn, startDate: seconds(x.startDate) });
      } else if (op === "ListExecutions") {
        const list = this.executions.filter((x) => !p.statusFilter || x.status === p.statusFilter);
        reply(200, {
          executions: list.map((x) => ({
            executionArn: x.executionArn,
            stateMachineArn: this.opts.stateMachineArn,
            name: x.name,
            status: x.status,
            startDate: seconds(x.startDate),
            stopDate: seconds(x.stopDate),
          })),
        });
      } else if (op === "StopExecution") {
        reply(200, { stopDate: seconds(this.stop(String(p.executionArn), p.error as string, p.cause as string)) });
      } else if (op === "DescribeExecution") {
        const x = this.executions.find((e) => e.executionArn === p.executionArn);
        if (!x) throw new ApiFault("ExecutionDoesNotExist", `Execution Does Not Exist: '${p.executionArn}'`);
        reply(200, {
          executionArn: x.executionArn,
          stateMachineArn: this.opts.stateMachineArn,
          name: x.name,
          status: x.status,
          startDate: seconds(x.startDate),
          stopDate: seconds(x.stopDate),
          input: x.input,
          output: x.output,
          error: x.error,
          cause: x.cause,
        });
      } else {
        throw new ApiFault("UnknownOperationException", `the stand-in does not implement ${op}`);
      }
    } catch (e) {
      if (e instanceof ApiFault) reply(400, { __type: e.type, message: e.message });
      else reply(500, { __type: "InternalFailure", message: (e as Error).message });
    }
    return true;
  }

  /** Waits for every execution started so far, and those they start, to end. */
  async settle(): Promise<void> {
    for (let seen = -1; seen !== this.executions.length;) {
      seen = this.executions.length;
      await Promise.all(this.executions.map((x) => x.ended));
    }
  }
}
