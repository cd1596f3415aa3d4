// Cron schedules for people: an expression in words ("every weekday at
// 09:00") and its next fire times in an IANA time zone. The grammar is the
// server's (host/engine/src/schedule.rs, docs/WORKFLOWS.md "Schedule"): five
// fields (minute hour day-of-month month day-of-week) or six with seconds
// first; `*`, `N`, `N-M`, lists, `/STEP`; JAN..DEC and SUN..SAT; `?` in the day
// fields; `@daily`-style shortcuts; when both day fields are restricted a day
// matches if either does (Vixie cron). The server is the authority on what is
// valid and when it fires; this is for showing it.
//
// Self-contained (no imports): tests/cron.test.mjs loads it in Node.

export type Cron = {
  seconds: boolean[];
  minutes: boolean[];
  hours: boolean[];
  days: boolean[];
  months: boolean[];
  /** 0 = Sunday … 6 = Saturday (7 folded into 0). */
  weekdays: boolean[];
  domAny: boolean;
  dowAny: boolean;
  hourAny: boolean;
};

type Field = { name: string; min: number; max: number; names: string[] };
const SECOND: Field = { name: "second", min: 0, max: 59, names: [] };
const MINUTE: Field = { name: "minute", min: 0, max: 59, names: [] };
const HOUR: Field = { name: "hour", min: 0, max: 23, names: [] };
const DAY: Field = { name: "day-of-month", min: 1, max: 31, names: [] };
const MONTH: Field = { name: "month", min: 1, max: 12, names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"] };
const WEEKDAY: Field = { name: "day-of-week", min: 0, max: 7, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] };

const SHORTCUTS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

function value(f: Field, s: string): number {
  const i = f.names.findIndex((n) => n === s.toUpperCase());
  let v: number;
  if (i >= 0) v = i + f.min;
  else if (/^[0-9]{1,4}$/.test(s)) v = Number(s);
  else throw new Error(`${f.name} field: \`${s}\` is not a number${f.names.length ? ` or a name like ${f.names[1]}` : ""}`);
  if (v < f.min || v > f.max) throw new Error(`${f.name} field: ${v} is out of range ${f.min}-${f.max}`);
  return v;
}

function field(f: Field, text: string): boolean[] {
  const set = new Array<boolean>(f.max + 1).fill(false);
  for (const item of text.split(",")) {
    const [range, stepText] = item.includes("/") ? [item.slice(0, item.indexOf("/")), item.slice(item.indexOf("/") + 1)] : [item, undefined];
    let step = 1;
    if (stepText !== undefined) {
      if (!/^[0-9]{1,4}$/.test(stepText)) throw new Error(`${f.name} field: step \`${stepText}\` is not a number`);
      step = Number(stepText);
      if (step === 0 || step > f.max) throw new Error(`${f.name} field: step ${step} is not between 1 and ${f.max}`);
    }
    let lo: number, hi: number;
    if (range === "*" || (range === "?" && f.name.startsWith("day"))) [lo, hi] = [f.min, f.max];
    else if (range.includes("-")) [lo, hi] = [value(f, range.slice(0, range.indexOf("-"))), value(f, range.slice(range.indexOf("-") + 1))];
    else {
      lo = value(f, range);
      hi = stepText !== undefined ? f.max : lo;
    }
    if (lo > hi) throw new Error(`${f.name} field: range ${lo}-${hi} runs backwards`);
    for (let v = lo; v <= hi; v += step) set[v] = true;
  }
  return set;
}

/** Parses an expression; throws an Error saying what is wrong. */
export function parseCron(expr: string): Cron {
  const trimmed = expr.trim();
  if (!trimmed) throw new Error("cron expression is empty");
  const full = trimmed.startsWith("@") ? SHORTCUTS[trimmed.toLowerCase()] : trimmed;
  if (!full) throw new Error(`unknown cron nickname \`${trimmed}\``);
  const parts = full.split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) {
    throw new Error(`expected 5 fields (minute hour day-of-month month day-of-week) or 6 (second first), found ${parts.length}`);
  }
  const [second, minute, hour, day, month, weekday] = parts.length === 6 ? parts : ["0", ...parts];
  const w = field(WEEKDAY, weekday);
  if (w[7]) w[0] = true;
  return {
    seconds: field(SECOND, second),
    minutes: field(MINUTE, minute),
    hours: field(HOUR, hour),
    days: field(DAY, day),
    months: field(MONTH, month),
    weekdays: w.slice(0, 7),
    domAny: day === "*" || day === "?",
    dowAny: weekday === "*" || weekday === "?",
    hourAny: hour === "*",
  };
}

// ---------------------------------------------------------------- in words

const DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTH_NAMES = ["", "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

const values = (set: boolean[], min = 0) => set.map((b, i) => (b && i >= min ? i : -1)).filter((i) => i >= 0);
const all = (set: boolean[], min = 0) => set.every((b, i) => i < min || b);
const pad = (n: number) => String(n).padStart(2, "0");

/** "a", "a and b", "a, b and c". */
export function listWords(items: string[]): string {
  if (items.length <= 1) return items.join("");
  return items.slice(0, -1).join(", ") + " and " + items[items.length - 1];
}

export function ordinal(n: number): string {
  const s = n % 100 >= 11 && n % 100 <= 13 ? "th" : ["th", "st", "nd", "rd"][n % 10] ?? "th";
  return `${n}${s}`;
}

/** Values with runs of three or more written "a to b". */
function runs(vals: number[], name: (v: number) => string): string {
  const out: string[] = [];
  for (let i = 0; i < vals.length; ) {
    let j = i;
    while (j + 1 < vals.length && vals[j + 1] === vals[j] + 1) j++;
    if (j - i >= 2) out.push(`${name(vals[i])} to ${name(vals[j])}`);
    else for (let k = i; k <= j; k++) out.push(name(vals[k]));
    i = j + 1;
  }
  return listWords(out);
}

/** The period N when the set is exactly {0, N, 2N, …} over a field whose size N divides. */
function period(set: boolean[], min = 0): number | null {
  const size = set.length - min;
  const vals = values(set, min);
  if (vals.length < 2 || vals[0] !== min) return null;
  const n = vals[1] - vals[0];
  if (size % n !== 0 || vals.length !== size / n) return null;
  return vals.every((v, i) => v === min + i * n) ? n : null;
}

function timePart(c: Cron): { fixed: string[] } | { interval: string } {
  const s = values(c.seconds), m = values(c.minutes), h = values(c.hours);
  const sec = (x: number) => (s.length === 1 && s[0] !== 0 ? `:${pad(x)}` : "");
  if (s.length === 1) {
    // A few fixed times of day.
    if (m.length * h.length <= 6 && !all(c.hours)) {
      const times = h.flatMap((hh) => m.map((mm) => `${pad(hh)}:${pad(mm)}${sec(s[0])}`));
      return { fixed: times };
    }
    const within = (words: string) => {
      if (all(c.hours)) return words;
      if (h.length === h[h.length - 1] - h[0] + 1) return `${words} from ${pad(h[0])}:00 to ${pad(h[h.length - 1])}:59`;
      return `${words} during the hours ${runs(h, (x) => pad(x))}`;
    };
    const seconds = s[0] === 0 ? "" : `, at second ${s[0]}`;
    if (m.length === 1) {
      const at = m[0] === 0 && s[0] === 0 ? "on the hour" : `at minute ${m[0]}${seconds}`;
      if (all(c.hours)) return { interval: `every hour ${at}` };
      const ph = period(c.hours);
      if (ph) return { interval: `every ${ph} hours ${at}` };
      return { interval: within(`every hour ${at}`) };
    }
    if (all(c.minutes)) return { interval: within(`every minute${seconds}`) };
    const pm = period(c.minutes);
    if (pm) return { interval: within(`every ${pm} minutes${seconds}`) };
    return { interval: within(`at minutes ${runs(m, String)} past the hour${seconds}`) };
  }
  if (all(c.minutes) && all(c.hours)) {
    if (all(c.seconds)) return { interval: "every second" };
    const ps = period(c.seconds);
    if (ps) return { interval: `every ${ps} seconds` };
  }
  const parts = [`at seconds ${runs(s, String)}`];
  if (!all(c.minutes)) parts.push(`of minutes ${runs(m, String)}`);
  if (!all(c.hours)) parts.push(`during the hours ${runs(h, (x) => pad(x))}`);
  return { interval: parts.join(" ") };
}

function dayPart(c: Cron, fixed: boolean): string {
  const months = values(c.months, 1);
  const everyMonth = all(c.months, 1);
  const inMonths = everyMonth ? "" : ` in ${runs(months, (x) => MONTH_NAMES[x])}`;
  const dom = values(c.days, 1);
  const dow = values(c.weekdays);
  const weekdayWords = () => {
    if (dow.join() === "1,2,3,4,5") return fixed ? "every weekday" : "on weekdays";
    if (dow.join() === "0,6") return fixed ? "every Saturday and Sunday" : "on weekends";
    return (fixed ? "every " : "on ") + runs(dow, (x) => DAY_NAMES[x]);
  };
  const domWords = () => `the ${runs(dom, ordinal)}`;
  if (c.domAny && c.dowAny) return everyMonth ? (fixed ? "every day" : "") : `every day${inMonths}`;
  if (c.domAny) return weekdayWords() + inMonths;
  if (c.dowAny) {
    if (everyMonth) return `on ${domWords()} of every month`;
    if (dom.length === 1 && months.length === 1) return `every year on ${dom[0]} ${MONTH_NAMES[months[0]]}`;
    return `on ${domWords()} of ${runs(months, (x) => MONTH_NAMES[x])}`;
  }
  // Both restricted: either matches (Vixie cron).
  const every = (fixed ? "every " : "on ") + runs(dow, (x) => DAY_NAMES[x]);
  return `on ${domWords()} of ${everyMonth ? "every month" : runs(months, (x) => MONTH_NAMES[x])} and ${every}${inMonths}`;
}

/** The expression in words, or its parse error. */
export function cronToWords(expr: string): string {
  const c = parseCron(expr);
  const t = timePart(c);
  if ("fixed" in t) return `${dayPart(c, true)} at ${listWords(t.fixed)}`;
  const d = dayPart(c, false);
  return d ? `${t.interval}, ${d}` : t.interval;
}

// ---------------------------------------------------------------- fire times

const formatters = new Map<string, Intl.DateTimeFormat>();
function wallFormatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric",
    });
    formatters.set(tz, f);
  }
  return f;
}

/** The wall clock of `tz` at `ms`, as a UTC-based "civil" number of milliseconds (whole seconds). */
function wall(ms: number, tz: string): number {
  const p: Record<string, number> = {};
  for (const part of wallFormatter(tz).formatToParts(new Date(ms))) if (part.type !== "literal") p[part.type] = Number(part.value);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour % 24, p.minute, p.second);
}

const offset = (ms: number, tz: string) => wall(ms, tz) - Math.floor(ms / 1000) * 1000;

/** Whether a time zone name is known to this browser. */
export function validZone(tz: string): boolean {
  try {
    wallFormatter(tz);
    return true;
  } catch {
    return false;
  }
}

function nextValue(set: boolean[], from: number): number | null {
  for (let v = from; v < set.length; v++) if (set[v]) return v;
  return null;
}

function dayMatches(c: Cron, civil: Date): boolean {
  const dom = c.days[civil.getUTCDate()];
  const dow = c.weekdays[civil.getUTCDay()];
  if (c.domAny && c.dowAny) return true;
  if (c.dowAny) return dom;
  if (c.domAny) return dow;
  return dom || dow;
}

/** The first time of day at or after h0:m0:s0 the time fields allow, in seconds of the day. */
function firstTime(c: Cron, h0: number, m0: number, s0: number): number | null {
  for (let h = nextValue(c.hours, h0); h !== null; h = nextValue(c.hours, h + 1)) {
    for (let m = nextValue(c.minutes, h === h0 ? m0 : 0); m !== null; m = nextValue(c.minutes, m + 1)) {
      const s = nextValue(c.seconds, h === h0 && m === m0 ? s0 : 0);
      if (s !== null) return h * 3600 + m * 60 + s;
    }
  }
  return null;
}

const DAY_MS = 86_400_000;

/** The first civil time at or after `from` (civil ms) that matches, before `last`. */
function firstMatch(c: Cron, from: number, last: number): number | null {
  let day = Math.floor(from / DAY_MS) * DAY_MS;
  let secs = (from - day) / 1000;
  while (day <= last) {
    const d = new Date(day);
    if (!c.months[d.getUTCMonth() + 1]) {
      day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
      secs = 0;
      continue;
    }
    if (dayMatches(c, d)) {
      const t = firstTime(c, Math.floor(secs / 3600), Math.floor(secs / 60) % 60, secs % 60);
      if (t !== null) return day + t * 1000;
    }
    day += DAY_MS;
    secs = 0;
  }
  return null;
}

/** The instants whose wall clock in `tz` is `civil`: one, two (a repeated hour), or the
 * first instant after a forward jump when `civil` was skipped. */
function instants(civil: number, tz: string, both: boolean): number[] {
  const H36 = 36 * 3_600_000;
  const before = offset(civil - H36, tz);
  const after = offset(civil + H36, tz);
  const found = [...new Set([before, offset(civil, tz), after])]
    .map((o) => civil - o)
    .filter((t) => wall(t, tz) === civil)
    .sort((a, b) => a - b);
  if (found.length) return both ? found : found.slice(0, 1);
  // Skipped by a forward jump: the first instant with the later offset.
  let lo = civil - after, hi = civil - before;
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (offset(mid, tz) === after) hi = mid;
    else lo = mid;
  }
  return [hi];
}

/** The next `count` fire times (Unix ms) strictly after `afterMs`, in the time zone `tz`. */
export function nextFireTimes(expr: string, tz: string, afterMs: number, count: number): number[] {
  const c = parseCron(expr);
  const start = Math.floor(afterMs / 1000) * 1000 + 1000;
  const last = wall(start, tz) + 10 * 366 * DAY_MS;
  const out = new Set<number>();
  // From the earliest wall-clock time of the next hours: after a backward
  // jump, wall-clock times before `start`'s come again. A few more than asked,
  // then sorted: around a repeated hour civil order and time order differ.
  let civil = Math.min(wall(start, tz), wall(start + 3 * 3_600_000, tz) - 3 * 3_600_000);
  for (let i = 0; out.size < count + 2 && i < 10_000; i++) {
    const next = firstMatch(c, civil, last);
    if (next === null) break;
    for (const t of instants(next, tz, c.hourAny)) if (t >= start) out.add(t);
    civil = next + 1000;
  }
  return [...out].sort((a, b) => a - b).slice(0, count);
}
