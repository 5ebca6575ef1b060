// The API's engine on AWS: each job is an execution of the deployed state machine, named after
// the job (StartExecution with the same name and input is idempotent), and continued executions
// are named "<id>-r<round>" (workflowDefinition.ts), so cancel finds and stops whichever runs.

import { ListExecutionsCommand, SFNClient, StartExecutionCommand, StopExecutionCommand } from "@aws-sdk/client-sfn";
import type { JobRef } from "../workflow/events.ts";
import type { Engine } from "./ports.ts";

export class StepFunctionsEngine implements Engine {
  constructor(
    private readonly stateMachineArn: string,
    private readonly client = new SFNClient({}),
  ) {}

  async start(job: JobRef): Promise<void> {
    try {
      await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name: job.id,
          input: JSON.stringify({ job, startedAt: Date.now() }),
        }),
      );
    } catch (e) {
      // the job's execution already exists: a retried submit
      if ((e as { name?: string }).name !== "ExecutionAlreadyExists") throw e;
    }
  }

  async stop(id: string, execution?: string): Promise<void> {
    const targets: string[] = execution ? [execution] : [];
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListExecutionsCommand({
          stateMachineArn: this.stateMachineArn,
          statusFilter: "RUNNING",
          nextToken,
          maxResults: 1000,
        }),
      );
      for (const x of page.executions ?? [])
        if (x.name === id || x.name?.startsWith(`${id}-r`)) targets.push(x.executionArn!);
      nextToken = page.nextToken;
    } while (nextToken);
    for (const arn of new Set(targets)) {
      try {
        await this.client.send(
          new StopExecutionCommand({
            executionArn: arn,
            error: "Cancelled",
            cause: `job ${id} was cancelled through the API`,
          }),
        );
      } catch (e) {
        if ((e as { name?: string }).name !== "ExecutionDoesNotExist") throw e;
      }
    }
  }
}
