// EventBridge Scheduler for the deployed-artifacts stage: CreateSchedule and DeleteSchedule of
// its REST API (what the `api` bundle's Scheduler client sends through
// AWS_ENDPOINT_URL_SCHEDULER) recorded, and fire() doing what a schedule's firing does: start the
// target state machine with the target's Input, the scheduled time filled in.

import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Execution } from "./sfnStandIn.ts";

export interface Schedule {
  Name: string;
  GroupName: string;
  ScheduleExpression: string;
  Target: { Arn: string; RoleArn: string; Input: string };
}

export class SchedulerStandIn {
  readonly schedules = new Map<string, Schedule>();

  constructor(private readonly start: (stateMachineArn: string, name: string, input: string) => Execution) {}

  /** One firing at `at`: the execution the schedule's target starts. */
  fire(name: string, at = new Date()): Execution {
    const s = this.schedules.get(name);
    if (!s) throw new Error(`no schedule ${name}`);
    const input = s.Target.Input.replaceAll(
      "<aws.scheduler.scheduled-time>",
      at.toISOString().replace(/\.\d{3}Z$/, "Z"),
    );
    return this.start(s.Target.Arn, randomUUID(), input);
  }

  handle(req: IncomingMessage, res: ServerResponse, body: Buffer): boolean {
    const url = new URL(req.url ?? "/", "http://localhost");
    const m = /^\/schedules\/([^/]+)$/.exec(url.pathname);
    if (!m) return false;
    const name = decodeURIComponent(m[1]);
    const reply = (status: number, value: unknown, type?: string) => {
      res.writeHead(status, { "content-type": "application/json", ...(type ? { "x-amzn-errortype": type } : {}) });
      res.end(JSON.stringify(value));
    };
    if (req.method === "POST") {
      if (this.schedules.has(name)) reply(409, { Message: `Schedule ${name} already exists.` }, "ConflictException");
      else {
        const s = JSON.parse(body.toString("utf8")) as Omit<Schedule, "Name">;
        this.schedules.set(name, { ...s, Name: name });
        reply(200, { ScheduleArn: `arn:aws:scheduler:us-east-1:000000000000:schedule/${s.GroupName}/${name}` });
      }
    } else if (req.method === "DELETE") {
      if (!this.schedules.delete(name))
        reply(404, { Message: `Schedule ${name} does not exist.` }, "ResourceNotFoundException");
      else reply(200, {});
    } else return false;
    return true;
  }
}
