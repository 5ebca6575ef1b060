// Schedules: a job template fired on a rate or cron expression (the scheduler port arms it).
// Each firing submits the template once, whoever calls: the firing's time is part of the
// idempotency key. Layout under the service's store: schedules/<id>.json (the schedule and its
// template), schedule-firings/<id>/<time> (the job each firing made).

import { nextFiring, parseSchedule, ScheduleExpressionError } from "../schedule/expression.ts";
import type { ScheduleCreate, ScheduleView } from "../spec/api.ts";
import type { JobSpec } from "../spec/job.ts";
import { getJson, NotFoundError, putJson, type BlobStore } from "../store/blobStore.ts";
import type { DatasetService } from "./datasets.ts";
import { invalid, notFound } from "./errors.ts";
import { newId } from "./idempotency.ts";
import type { JobService } from "./jobs.ts";
import type { ScheduleRecord, Scheduler } from "./ports.ts";

/** The idempotency key of a schedule's firing at `at` (ms). */
export const firingKey = (schedule: string, at: number) => `schedule:${schedule}:${at}`;

export class ScheduleService {
  constructor(private readonly root: BlobStore, private readonly scheduler: Scheduler, private readonly jobs: JobService, private readonly datasets: DatasetService, private readonly now: () => number) {}

  private view(s: ScheduleRecord): ScheduleView {
    const next = nextFiring(parseSchedule(s.expression, true), this.now(), Date.parse(s.createdAt));
    return { id: s.id, name: s.name, expression: s.expression, createdAt: s.createdAt, nextRunAt: next === null ? null : new Date(next).toISOString(), firings: 0, links: { self: `/schedules/${s.id}` } };
  }

  async create(body: ScheduleCreate): Promise<ScheduleView> {
    try {
      parseSchedule(body.expression, this.scheduler.allowSeconds);
    } catch (e) {
      if (e instanceof ScheduleExpressionError) throw invalid(e.message, [{ path: "expression", message: e.message }]);
      throw e;
    }
    // the template must be a job this service can run, now rather than at the first firing
    // (a named dataset's "latest" is resolved again at every firing)
    await this.datasets.forJob(await this.datasets.resolve(body.template as JobSpec));
    const s: ScheduleRecord = { id: newId("s"), name: body.name, expression: body.expression, template: body.template, createdAt: new Date(this.now()).toISOString() };
    await putJson(this.root, `schedules/${s.id}.json`, s);
    await this.scheduler.arm(s);
    return this.view(s);
  }

  async records(): Promise<ScheduleRecord[]> {
    const out: ScheduleRecord[] = [];
    for (const k of await this.root.list("schedules/")) if (k.endsWith(".json")) out.push((await getJson(this.root, k)) as ScheduleRecord);
    return out;
  }

  async list(): Promise<ScheduleView[]> {
    const views = [];
    for (const s of await this.records()) views.push({ ...this.view(s), firings: (await this.root.list(`schedule-firings/${s.id}/`)).length });
    return views;
  }

  async delete(id: string): Promise<void> {
    if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(id) || !(await this.root.has(`schedules/${id}.json`))) throw notFound(`schedule ${id.slice(0, 80)}`);
    await this.scheduler.disarm(id);
    await this.root.delete(`schedules/${id}.json`);
  }

  /** The template of a stored schedule. */
  async template(id: string): Promise<unknown> {
    return ((await getJson(this.root, `schedules/${id}.json`)) as ScheduleRecord).template;
  }

  /** Records which job a firing made. */
  async recordFiring(schedule: string, at: number, job: string): Promise<void> {
    await this.root.put(`schedule-firings/${schedule}/${at}`, new TextEncoder().encode(job));
  }

  /** A schedule's firing at `at` (ms): submits its template once per firing, whoever calls. */
  async fire(id: string, at: number): Promise<string | null> {
    let template: unknown;
    try {
      template = await this.template(id);
    } catch (e) {
      if (e instanceof NotFoundError) return null; // deleted meanwhile
      throw e;
    }
    const { id: job } = await this.jobs.submit(template, firingKey(id, at), { schedule: id });
    await this.recordFiring(id, at, job);
    return job;
  }
}
