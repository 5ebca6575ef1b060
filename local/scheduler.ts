// The local server's scheduler: one timer per schedule, re-armed after each firing. A firing
// submits the schedule's template with an idempotency key of (schedule, firing time), so a
// firing is one job even if it is retried. Firings missed while the server was down are skipped.
// Disarming waits for a firing in flight, so no job appears after a schedule's deletion answered.

import { nextFiring, parseSchedule } from "../shared/schedule/expression.ts";
import type { Scheduler, ScheduleRecord } from "../shared/service/ports.ts";

export class LocalScheduler implements Scheduler {
  readonly allowSeconds = true;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private fire: (id: string, at: number) => Promise<unknown> = async () => undefined;

  constructor(
    private readonly log: (line: string) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** What a firing does (the service submits the template). */
  onFire(fire: (id: string, at: number) => Promise<unknown>): void {
    this.fire = fire;
  }

  async arm(s: ScheduleRecord): Promise<void> {
    this.clear(s.id);
    const expression = parseSchedule(s.expression, true);
    const schedule = (after: number) => {
      const at = nextFiring(expression, after, Date.parse(s.createdAt));
      if (at === null) return;
      // long delays wake up early and re-arm (timers hold at most 2^31 − 1 ms)
      const delay = Math.max(0, Math.min(at - this.now(), 2 ** 31 - 1));
      const timer = setTimeout(async () => {
        if (this.now() + 5 < at) return schedule(after);
        const firing = this.fire(s.id, at).catch((e: unknown) => {
          this.log(
            `schedule ${s.id}: the firing at ${new Date(at).toISOString()} failed: ` +
              `${(e as Error).message.split("\n")[0]}`,
          );
        });
        this.inFlight.set(s.id, firing);
        await firing;
        if (this.inFlight.get(s.id) === firing) this.inFlight.delete(s.id);
        if (this.timers.get(s.id) === timer) schedule(at);
      }, delay);
      timer.unref();
      this.timers.set(s.id, timer);
    };
    schedule(this.now());
  }

  async disarm(id: string): Promise<void> {
    this.clear(id);
    await this.inFlight.get(id);
  }

  close(): void {
    for (const id of [...this.timers.keys()]) this.clear(id);
  }

  private clear(id: string): void {
    const t = this.timers.get(id);
    if (t) clearTimeout(t);
    this.timers.delete(id);
  }
}
