import { describe, expect, it } from "vitest";
import { nextCronTime } from "../../src/kernel/triggers/cron.js";

// A Tuesday.
const AT = new Date("2026-03-10T10:17:30Z");
const next = (expression: string, after = AT) => nextCronTime(expression, after)?.toISOString();

describe("nextCronTime", () => {
  it("finds the next minute strictly after the given time (UTC)", () => {
    expect(next("* * * * *")).toBe("2026-03-10T10:18:00.000Z");
    expect(next("* * * * *", new Date("2026-03-10T10:18:00Z"))).toBe("2026-03-10T10:19:00.000Z");
    expect(next("*/15 * * * *")).toBe("2026-03-10T10:30:00.000Z");
    expect(next("5-10/2 * * * *")).toBe("2026-03-10T11:05:00.000Z");
    expect(next("0 3 * * *")).toBe("2026-03-11T03:00:00.000Z");
    expect(next("0 0 1 * *")).toBe("2026-04-01T00:00:00.000Z");
    expect(next("0 0 1 jan *")).toBe("2027-01-01T00:00:00.000Z");
  });

  it("reads weekdays by number or name, 7 being Sunday", () => {
    expect(next("30 8 * * mon")).toBe("2026-03-16T08:30:00.000Z");
    expect(next("0 0 * * 7")).toBe("2026-03-15T00:00:00.000Z");
    expect(next("0 0 * * 0")).toBe("2026-03-15T00:00:00.000Z");
  });

  it("fires on either day of month or day of week when both are restricted, as cron does", () => {
    // Friday the 13th and every Friday: the 13th (a Friday) comes first.
    expect(next("0 12 13 * 5")).toBe("2026-03-13T12:00:00.000Z");
    expect(next("0 12 20 * 1")).toBe("2026-03-16T12:00:00.000Z");
  });

  it("reaches the next 29 February, and says when an expression never fires", () => {
    expect(next("0 0 29 2 *")).toBe("2028-02-29T00:00:00.000Z");
    expect(next("0 0 31 2 *")).toBeUndefined();
    expect(next("not cron")).toBeUndefined();
  });
});
