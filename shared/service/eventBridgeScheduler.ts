// The API's scheduler on AWS: each schedule is an EventBridge Scheduler schedule in the service's
// group, whose target starts the state machine with {launch: {schedule, at}}; the Launch state
// then creates the firing's job from the template stored under schedules/<id>.json.

import { CreateScheduleCommand, DeleteScheduleCommand, SchedulerClient } from "@aws-sdk/client-scheduler";
import type { Scheduler, ScheduleRecord } from "./ports.ts";

export interface EventBridgeSchedulerOptions {
  group: string;
  stateMachineArn: string;
  /** the role EventBridge Scheduler assumes to start executions */
  roleArn: string;
}

export class EventBridgeScheduler implements Scheduler {
  readonly allowSeconds = false;

  constructor(
    private readonly opts: EventBridgeSchedulerOptions,
    private readonly client = new SchedulerClient({}),
  ) {}

  async arm(s: ScheduleRecord): Promise<void> {
    await this.client.send(
      new CreateScheduleCommand({
        Name: s.id,
        GroupName: this.opts.group,
        ScheduleExpression: s.expression,
        ScheduleExpressionTimezone: "UTC",
        FlexibleTimeWindow: { Mode: "OFF" },
        Description: `enkf schedule ${s.name}`,
        Target: {
          Arn: this.opts.stateMachineArn,
          RoleArn: this.opts.roleArn,
          // Scheduler fills in the firing's time; the Launch state derives the job from it
          Input: JSON.stringify({ launch: { schedule: s.id, at: "<aws.scheduler.scheduled-time>" } }),
          RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 },
        },
      }),
    );
  }

  async disarm(id: string): Promise<void> {
    try {
      await this.client.send(new DeleteScheduleCommand({ Name: id, GroupName: this.opts.group }));
    } catch (e) {
      if ((e as { name?: string }).name !== "ResourceNotFoundException") throw e;
    }
  }
}
