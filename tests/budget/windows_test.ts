import assert from "node:assert/strict";
import { windowAt } from "../../src/budget/windows.ts";

Deno.test("windowAt() puts the last millisecond of a UTC day in that day", () => {
  const window = windowAt("day", new Date("2026-01-05T23:59:59.999Z"));
  assert.equal(window.period, "2026-01-05");
  assert.equal(window.start.toISOString(), "2026-01-05T00:00:00.000Z");
  assert.equal(window.end.toISOString(), "2026-01-06T00:00:00.000Z");
});

Deno.test("windowAt() starts a new day exactly at 00:00:00.000 UTC", () => {
  assert.equal(windowAt("day", new Date("2026-01-06T00:00:00.000Z")).period, "2026-01-06");
  // Local offsets do not matter: 23:30 in New York on the 5th is the 6th in UTC.
  assert.equal(windowAt("day", new Date("2026-01-05T23:30:00-05:00")).period, "2026-01-06");
});

Deno.test("windowAt() rolls months over at their UTC boundary, leap years included", () => {
  assert.equal(windowAt("month", new Date("2026-01-31T23:59:59.999Z")).period, "2026-01");
  const february = windowAt("month", new Date("2026-02-01T00:00:00.000Z"));
  assert.equal(february.period, "2026-02");
  assert.equal(february.end.toISOString(), "2026-03-01T00:00:00.000Z");
  assert.equal(
    windowAt("month", new Date("2028-02-29T12:00:00Z")).end.toISOString(),
    "2028-03-01T00:00:00.000Z",
  );
  const december = windowAt("month", new Date("2026-12-31T23:59:59.999Z"));
  assert.equal(december.end.toISOString(), "2027-01-01T00:00:00.000Z");
  assert.equal(windowAt("day", new Date("2026-12-31T23:59:59.999Z")).end.getUTCFullYear(), 2027);
});

Deno.test("windowAt() refuses an invalid date", () => {
  assert.throws(() => windowAt("day", new Date("nope")), RangeError);
});
