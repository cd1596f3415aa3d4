// Unit tests of src/lib/cron.ts: schedules in words and their next fire
// times, against the server's grammar and its daylight-saving rules
// (host/engine/src/schedule.rs).
import assert from "node:assert/strict";
import { test } from "node:test";
import { importTs } from "./ts.mjs";

const { cronToWords, nextFireTimes, parseCron, validZone } = await importTs("../src/lib/cron.ts");
const iso = (ts) => ts.map((t) => new Date(t).toISOString().replace(".000", ""));

test("shortcuts in words", () => {
  assert.equal(cronToWords("@daily"), "every day at 00:00");
  assert.equal(cronToWords("@midnight"), "every day at 00:00");
  assert.equal(cronToWords("@hourly"), "every hour on the hour");
  assert.equal(cronToWords("@weekly"), "every Sunday at 00:00");
  assert.equal(cronToWords("@monthly"), "on the 1st of every month at 00:00");
  assert.equal(cronToWords("@yearly"), "every year on 1 January at 00:00");
  assert.equal(cronToWords("@annually"), "every year on 1 January at 00:00");
});

test("five-field expressions in words", () => {
  const cases = {
    "0 9 * * 1-5": "every weekday at 09:00",
    "0 9 * * MON-FRI": "every weekday at 09:00",
    "30 9 * * mon,wed,fri": "every Monday, Wednesday and Friday at 09:30",
    "0 8 * * 6,0": "every Saturday and Sunday at 08:00",
    "5 4 * * 7": "every Sunday at 04:05",
    "15 10 * * *": "every day at 10:15",
    "0 9,17 * * *": "every day at 09:00 and 17:00",
    "*/15 * * * *": "every 15 minutes",
    "* * * * *": "every minute",
    "0 */2 * * *": "every 2 hours on the hour",
    "30 * * * *": "every hour at minute 30",
    "*/15 9-17 * * 1-5": "every 15 minutes from 09:00 to 17:59, on weekdays",
    "0 0 1,15 * *": "on the 1st and 15th of every month at 00:00",
    "0 0 1 */3 *": "on the 1st of January, April, July and October at 00:00",
    "0 12 * JAN,JUL *": "every day in January and July at 12:00",
    "0 0 25 12 *": "every year on 25 December at 00:00",
    "0 0 13 * 5": "on the 13th of every month and every Friday at 00:00",
    "0 0 ? * 1": "every Monday at 00:00",
    "*/7 * * * *": "at minutes 0, 7, 14, 21, 28, 35, 42, 49 and 56 past the hour",
  };
  for (const [expr, words] of Object.entries(cases)) assert.equal(cronToWords(expr), words, expr);
});

test("six-field expressions (seconds first) in words", () => {
  assert.equal(cronToWords("*/30 * * * * *"), "every 30 seconds");
  assert.equal(cronToWords("* * * * * *"), "every second");
  assert.equal(cronToWords("0 0 9 * * 1-5"), "every weekday at 09:00");
  assert.equal(cronToWords("15 0 9 * * *"), "every day at 09:00:15");
});

test("what the server refuses is refused with the field named", () => {
  assert.throws(() => parseCron(""), /empty/);
  assert.throws(() => parseCron("* * *"), /expected 5 fields .* found 3/);
  assert.throws(() => parseCron("60 * * * *"), /minute field: 60 is out of range 0-59/);
  assert.throws(() => parseCron("@often"), /unknown cron nickname/);
  assert.throws(() => parseCron("5-1 * * * *"), /runs backwards/);
  assert.throws(() => parseCron("*/0 * * * *"), /step 0/);
  assert.throws(() => parseCron("* * * * FOO"), /day-of-week field: `FOO` is not a number or a name like MON/);
  // `?` means any in the two day fields only.
  assert.doesNotThrow(() => parseCron("* * ? * ?"));
  assert.throws(() => parseCron("? * * * *"), /minute field: `\?` is not a number/);
});

test("next fire times in a time zone (the server's doc example)", () => {
  // 09:30 on weekdays, Berlin: after Friday 2025-03-28 12:00 UTC comes Monday 07:30 UTC (CEST).
  const friday = Date.UTC(2025, 2, 28, 12);
  assert.deepEqual(iso(nextFireTimes("30 9 * * MON-FRI", "Europe/Berlin", friday, 2)), ["2025-03-31T07:30:00Z", "2025-04-01T07:30:00Z"]);
  assert.deepEqual(iso(nextFireTimes("0 0 29 2 *", "UTC", friday, 2)), ["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"]);
  // Strictly after: a tick exactly at `after` is not the next one.
  assert.deepEqual(iso(nextFireTimes("@hourly", "UTC", Date.UTC(2025, 0, 1, 10), 1)), ["2025-01-01T11:00:00Z"]);
  assert.deepEqual(iso(nextFireTimes("*/20 * * * * *", "UTC", Date.UTC(2025, 0, 1, 10, 0, 5), 2)), ["2025-01-01T10:00:20Z", "2025-01-01T10:00:40Z"]);
});

test("daylight saving: a skipped time fires after the jump, a repeated one once (twice when the hour is *)", () => {
  // Berlin, 2025-03-30: 02:00 CET -> 03:00 CEST at 01:00 UTC; 02:30 does not exist.
  assert.deepEqual(iso(nextFireTimes("30 2 * * *", "Europe/Berlin", Date.UTC(2025, 2, 29, 12), 2)), ["2025-03-30T01:00:00Z", "2025-03-31T00:30:00Z"]);
  // Berlin, 2025-10-26: 03:00 CEST -> 02:00 CET at 01:00 UTC; 02:30 happens twice.
  assert.deepEqual(iso(nextFireTimes("30 2 * * *", "Europe/Berlin", Date.UTC(2025, 9, 25, 12), 2)), ["2025-10-26T00:30:00Z", "2025-10-27T01:30:00Z"]);
  assert.deepEqual(iso(nextFireTimes("*/30 * * * *", "Europe/Berlin", Date.UTC(2025, 9, 26, 0, 10), 4)), [
    "2025-10-26T00:30:00Z",
    "2025-10-26T01:00:00Z",
    "2025-10-26T01:30:00Z",
    "2025-10-26T02:00:00Z",
  ]);
  // New York, weekdays at 09:00: 13:00 UTC in summer, 14:00 in winter.
  assert.deepEqual(iso(nextFireTimes("0 9 * * 1-5", "America/New_York", Date.UTC(2025, 10, 1), 2)), ["2025-11-03T14:00:00Z", "2025-11-04T14:00:00Z"]);
});

test("time zone names", () => {
  assert.ok(validZone("Europe/Berlin"));
  assert.ok(validZone("UTC"));
  assert.ok(!validZone("Mars/Olympus"));
});
