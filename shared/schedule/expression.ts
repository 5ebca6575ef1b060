// Schedule expressions as EventBridge Scheduler writes them, parsed and stepped forward in UTC:
//   rate(N unit)  unit = minute(s), hour(s), day(s), and second(s) on the local server only;
//   cron(minutes hours day-of-month month day-of-week year), with * ? , - / and names (JAN, MON);
//   one of day-of-month and day-of-week is "?". L, W and # are refused.
// Pure: the same text and instant give the same next firing.

export type ScheduleExpression =
  { kind: "rate"; seconds: number; text: string } | { kind: "cron"; fields: CronFields; text: string };

interface CronFields {
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number> | null;
  months: Set<number>;
  weekdays: Set<number> | null;
  years: Set<number> | null;
}

export class ScheduleExpressionError extends Error {
  override name = "ScheduleExpressionError";
}

const UNITS: Record<string, number> = {
  second: 1,
  seconds: 1,
  minute: 60,
  minutes: 60,
  hour: 3600,
  hours: 3600,
  day: 86400,
  days: 86400,
};
const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/** `allowSeconds`: the local server fires rate(N seconds); EventBridge's finest rate is a minute. */
export function parseSchedule(text: string, allowSeconds: boolean): ScheduleExpression {
  const t = text.trim();
  const rate = /^rate\(\s*(\d{1,9})\s+([a-z]+)\s*\)$/i.exec(t);
  if (rate) {
    const n = Number(rate[1]),
      unit = rate[2].toLowerCase();
    if (!(unit in UNITS))
      throw new ScheduleExpressionError(
        `rate unit "${rate[2]}": use minute(s), hour(s) or day(s)${allowSeconds ? " or second(s)" : ""}`,
      );
    if (UNITS[unit] === 1 && !allowSeconds)
      throw new ScheduleExpressionError(
        "EventBridge Scheduler's finest rate is rate(1 minute); seconds are for the local server",
      );
    if (n < 1) throw new ScheduleExpressionError("a rate is at least 1");
    if ((n === 1) !== !unit.endsWith("s"))
      throw new ScheduleExpressionError(
        `write rate(1 ${unit.replace(/s$/, "")}) or rate(${n > 1 ? n : 2} ${unit.replace(/s$/, "")}s)`,
      );
    return { kind: "rate", seconds: n * UNITS[unit], text: t };
  }
  const cron = /^cron\((.*)\)$/i.exec(t);
  if (!cron)
    throw new ScheduleExpressionError(
      `"${t.slice(0, 80)}" is not rate(N unit) or cron(minutes hours day-of-month month day-of-week year)`,
    );
  const parts = cron[1].trim().split(/\s+/);
  if (parts.length !== 6)
    throw new ScheduleExpressionError(
      `cron takes 6 fields (minutes hours day-of-month month day-of-week year), got ${parts.length}`,
    );
  const [mi, h, dom, mon, dow, y] = parts;
  if ((dom === "?") === (dow === "?"))
    throw new ScheduleExpressionError('cron: exactly one of day-of-month and day-of-week is "?"');
  return {
    kind: "cron",
    text: t,
    fields: {
      minutes: field(mi, 0, 59, "minutes"),
      hours: field(h, 0, 23, "hours"),
      days: dom === "?" ? null : field(dom, 1, 31, "day-of-month"),
      months: field(mon, 1, 12, "month", MONTHS),
      // EventBridge numbers the weekdays 1 (SUN) to 7 (SAT)
      weekdays: dow === "?" ? null : field(dow, 1, 7, "day-of-week", DAYS),
      years: y === "*" ? null : field(y, 1970, 2199, "year"),
    },
  };
}

function value(text: string, lo: number, hi: number, name: string, names?: string[]): number {
  const i = names?.indexOf(text.toUpperCase()) ?? -1;
  const v = i >= 0 ? i + lo : /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(v >= lo && v <= hi))
    throw new ScheduleExpressionError(
      `cron ${name}: "${text}" is not in ${lo}–${hi}${names ? ` or ${names[0]}–${names[names.length - 1]}` : ""}`,
    );
  return v;
}

function field(text: string, lo: number, hi: number, name: string, names?: string[]): Set<number> {
  if (/[LW#]/i.test(text.replace(/[A-Z]{3}/gi, (m) => (names?.includes(m.toUpperCase()) ? "0" : m))))
    throw new ScheduleExpressionError(`cron ${name}: L, W and # are not supported here`);
  const out = new Set<number>();
  for (const item of text.split(",")) {
    const [range, stepText] = item.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1)
      throw new ScheduleExpressionError(`cron ${name}: step "${stepText}" must be a positive integer`);
    let a: number, b: number;
    if (range === "*") [a, b] = [lo, hi];
    else if (range.includes("-")) {
      const [x, z] = range.split("-");
      [a, b] = [value(x, lo, hi, name, names), value(z, lo, hi, name, names)];
      if (a > b) throw new ScheduleExpressionError(`cron ${name}: range "${range}" runs backwards`);
    } else {
      a = value(range, lo, hi, name, names);
      b = stepText === undefined ? a : hi;
    }
    for (let v = a; v <= b; v += step) out.add(v);
  }
  return out;
}

/** The first firing strictly after `afterMs` (a rate counts from `anchorMs`); null if none within 5 years. */
export function nextFiring(e: ScheduleExpression, afterMs: number, anchorMs: number): number | null {
  if (e.kind === "rate") {
    const period = e.seconds * 1000;
    const k = Math.max(1, Math.floor((afterMs - anchorMs) / period) + 1);
    return anchorMs + k * period;
  }
  const f = e.fields;
  // minute by minute over matching days: a day that fails the date fields is skipped whole
  let t = Math.floor(afterMs / 60_000) * 60_000 + 60_000;
  const end = afterMs + 5 * 366 * 86_400_000;
  while (t <= end) {
    const d = new Date(t);
    const dateOk =
      f.months.has(d.getUTCMonth() + 1) &&
      (f.years === null || f.years.has(d.getUTCFullYear())) &&
      (f.days === null || f.days.has(d.getUTCDate())) &&
      (f.weekdays === null || f.weekdays.has(d.getUTCDay() + 1));
    if (!dateOk) {
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
      continue;
    }
    if (f.hours.has(d.getUTCHours()) && f.minutes.has(d.getUTCMinutes())) return t;
    t += 60_000;
  }
  return null;
}
