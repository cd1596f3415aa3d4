// The dashboard's periods: the window asked of `GET /v1/runs/stats`, aligned
// to the viewer's local hours and days so bars start on the hour (or at
// midnight). The server answers every bucket of it, empty ones too.

/** A bar of the chart: where it starts and its runs by status. */
export type Bucket = { start: number; counts: Record<string, number> };

export const periods = [
  { value: "24h", label: "Last 24 hours", ms: 86_400_000, bucket: 3_600_000, per: "hour" },
  { value: "7d", label: "Last 7 days", ms: 7 * 86_400_000, bucket: 6 * 3_600_000, per: "6 hours" },
  { value: "30d", label: "Last 30 days", ms: 30 * 86_400_000, bucket: 86_400_000, per: "day" },
] as const;

export type Period = (typeof periods)[number];

export function period(value: string | null): Period {
  return periods.find((p) => p.value === value) ?? periods[0];
}

/** The window ending at the end of the current bucket (counted from local midnight). */
export function windowOf(p: Period, now = Date.now()): { from: number; to: number; bucket_ms: number } {
  const midnight = new Date(now);
  midnight.setHours(0, 0, 0, 0);
  const m = midnight.getTime();
  const to = m + Math.ceil((now - m + 1) / p.bucket) * p.bucket;
  return { from: to - p.ms, to, bucket_ms: p.bucket };
}
