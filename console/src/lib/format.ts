// Numbers as people read them: counts, bytes, durations, money, UTC days.

const counts = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

/** 1234567 → "1,234,567". */
export function count(n: number): string {
  return counts.format(n);
}

/** Bytes with a binary unit: 1536 → "1.5 KiB". */
export function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** Milliseconds as "850 ms", "12.3 s", "4 min 5 s", "2 h 10 min". */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** Millionths of a currency unit as an amount: 1234567 → "1.2346". */
export function micros(n: number): string {
  return (n / 1_000_000).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 4 });
}

/** A Date as its UTC day, `YYYY-MM-DD`. */
export function utcDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** Every UTC day from `from` to `to` included (at most 400). */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  const d = new Date(from + "T00:00:00Z");
  const end = new Date(to + "T00:00:00Z");
  if (isNaN(d.getTime()) || isNaN(end.getTime())) return out;
  while (d <= end && out.length < 400) {
    out.push(utcDay(d));
    d.setUTCDate(d.getUTCDate() + 1);
  }
  return out;
}

/** A role's name with a capital: "owner" → "Owner". */
export function title(s: string): string {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}
