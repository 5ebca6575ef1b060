// Schedules: a job template fired on a rate or cron expression (the scheduler port arms it).
// Each firing submits the template once, whoever calls: the firing's time is part of the
// idempotency key. A schedule with a promotion rule (promote) retrains a model: each firing
// starts from the model's champion (unless the template sets problem.initial), the job's final
// state promotes it if it wins, and a firing while the previous firing's job has not reached its
// outcome is skipped, so firings never overlap. Layout under the service's store:
// schedules/<id>.json (the schedule and its template), schedule-firings/<id>/<time> (the job
// each firing made).

import { nextFiring, parseSchedule, ScheduleExpressionError } from "../schedule/expression.ts";
import type { PromotionRule, ScheduleCreate, ScheduleView } from "../spec/api.ts";
import type { JobSpec } from "../spec/job.ts";
import { getJson, NotFoundError, putJson, type BlobStore } from "../store/blobStore.ts";
import { keys } from "../workflow/jobStore.ts";
import { readChampion, unchangedSince } from "./models.ts";
import type { DatasetService } from "./datasets.ts";
import { invalid, notFound, ServiceError } from "./errors.ts";
import { checkFits } from "./submission.ts";
import { keyedId, newId } from "./idempotency.ts";
import type { JobService } from "./jobs.ts";
import type { ScheduleRecord, Scheduler } from "./ports.ts";

/** The idempotency key of a schedule's firing at `at` (ms). */
export const firingKey = (schedule: string, at: number) => `schedule:${schedule}:${at}`;

export class ScheduleService {
  constructor(
    private readonly root: BlobStore,
    private readonly scheduler: Scheduler,
    private readonly jobs: JobService,
    private readonly datasets: DatasetService,
    private readonly now: () => number,
  ) {}

  private view(s: ScheduleRecord): ScheduleView {
    const next = nextFiring(parseSchedule(s.expression, true), this.now(), Date.parse(s.createdAt));
    return {
      id: s.id,
      name: s.name,
      expression: s.expression,
      createdAt: s.createdAt,
      nextRunAt: next === null ? null : new Date(next).toISOString(),
      firings: 0,
      links: { self: `/schedules/${s.id}` },
    };
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
    const template = body.template as JobSpec;
    try {
      checkFits(template, await this.datasets.forJob(await this.datasets.resolve(template)));
    } catch (e) {
      throw inTemplate(e);
    }
    const p = template.problem;
    if (body.promote?.metric === "validationAccuracy" && p.type !== "classification")
      throw invalid("validationAccuracy decides between classifiers; this template is a regression", [
        { path: "promote.metric", message: "use validationLoss" },
      ]);
    if (
      (p.type === "classification" || p.type === "regression") &&
      p.initial &&
      "fromModel" in p.initial &&
      (await readChampion(this.root, p.initial.fromModel)) === undefined
    ) {
      throw invalid(`no model named "${p.initial.fromModel}": a model is created by its first promotion`, [
        { path: "template.problem.initial.fromModel", message: "unknown model" },
      ]);
    }
    const s: ScheduleRecord = {
      id: newId("s"),
      name: body.name,
      expression: body.expression,
      template: body.template,
      createdAt: new Date(this.now()).toISOString(),
      ...(body.promote ? { promote: body.promote } : {}),
    };
    await putJson(this.root, `schedules/${s.id}.json`, s);
    await this.scheduler.arm(s);
    return this.view(s);
  }

  async records(): Promise<ScheduleRecord[]> {
    const out: ScheduleRecord[] = [];
    for (const k of await this.root.list("schedules/"))
      if (k.endsWith(".json")) out.push((await getJson(this.root, k)) as ScheduleRecord);
    return out;
  }

  async list(): Promise<ScheduleView[]> {
    const views = [];
    for (const s of await this.records()) {
      const skipped = (await getJson(this.root, `schedule-skips/${s.id}.json`).catch(() => null)) as {
        at: string;
        reason: string;
      } | null;
      views.push({
        ...this.view(s),
        firings: (await this.root.list(`schedule-firings/${s.id}/`)).length,
        lastSkipped: skipped,
      });
    }
    return views;
  }

  async delete(id: string): Promise<void> {
    if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(id) || !(await this.root.has(`schedules/${id}.json`)))
      throw notFound(`schedule ${id.slice(0, 80)}`);
    await this.scheduler.disarm(id);
    await this.root.delete(`schedules/${id}.json`);
  }

  /**
   * What the firing of schedule `id` at `at` submits: its template (with the model's champion as
   * problem.initial when the schedule promotes and warm-starts) and its promotion rule; the job
   * a retried firing made already; or "skip" when a promoting schedule's previous job has not
   * reached its outcome yet.
   */
  async firing(
    id: string,
    at: number,
  ): Promise<{ template: unknown; promote?: PromotionRule } | { job: string } | "skip"> {
    const s = (await getJson(this.root, `schedules/${id}.json`)) as ScheduleRecord;
    if (!s.promote) return { template: s.template };
    // a retried firing finds its job (the champion may have changed since)
    const job = keyedId(firingKey(id, at));
    if (await this.jobs.exists(job)) return { job };
    if (await this.busy(id)) return "skip";
    const template = s.template as JobSpec;
    const p = template.problem;
    // nothing new to learn: the same data and champion as the last decision, which kept the champion
    if (!s.promote.always && (p.type === "classification" || p.type === "regression")) {
      const pinned = (await this.datasets.resolve(template)).problem as typeof p;
      const reason = await unchangedSince(this.root, s.promote.model, pinned.data as { source: string; id?: string });
      if (reason) {
        await putJson(this.root, `schedule-skips/${id}.json`, { at: new Date(at).toISOString(), reason });
        return "skip";
      }
    }
    if (!s.promote.warmStart || (p.type !== "classification" && p.type !== "regression") || p.initial)
      return { template, promote: s.promote };
    const champion = await readChampion(this.root, s.promote.model);
    return {
      template: champion ? { ...template, problem: { ...p, initial: { fromModel: s.promote.model } } } : template,
      promote: s.promote,
    };
  }

  /** Whether the schedule's latest firing's job is queued, running, or ended without its outcome yet. */
  private async busy(id: string): Promise<boolean> {
    const firings = await this.root.list(`schedule-firings/${id}/`);
    const last = firings.sort((a, b) => Number(a.split("/").pop()) - Number(b.split("/").pop())).pop();
    if (!last) return false;
    const job = new TextDecoder().decode(await this.root.get(last));
    const { status } = await this.jobs.status(job);
    if (status === "queued" || status === "running") return true;
    return status !== "cancelled" && !(await this.jobs.jobStore(job).has(keys.outcome));
  }

  /** Records which job a firing made. */
  async recordFiring(schedule: string, at: number, job: string): Promise<void> {
    await this.root.put(`schedule-firings/${schedule}/${at}`, new TextEncoder().encode(job));
  }

  /** A schedule's firing at `at` (ms): submits its template once per firing, whoever calls. */
  async fire(id: string, at: number): Promise<string | null> {
    let f: Awaited<ReturnType<ScheduleService["firing"]>>;
    try {
      f = await this.firing(id, at);
    } catch (e) {
      if (e instanceof NotFoundError) return null; // deleted meanwhile
      throw e;
    }
    if (f === "skip") return null;
    if ("job" in f) return f.job;
    const { id: job } = await this.jobs.submit(f.template, firingKey(id, at), {
      schedule: id,
      ...(f.promote ? { promote: f.promote } : {}),
    });
    await this.recordFiring(id, at, job);
    return job;
  }
}

/** A job's refusal as the schedule's: its fields are under template. */
function inTemplate(e: unknown): unknown {
  if (!(e instanceof ServiceError) || e.kind !== "invalid") return e;
  const details = e.details.map((d) => ({ ...d, path: d.path ? `template.${d.path}` : "template" }));
  return new ServiceError(
    e.kind,
    e.message.replace(/^(problem|optimizer|stop|compute)\./, "template.$1."),
    details,
    e.code,
  );
}
