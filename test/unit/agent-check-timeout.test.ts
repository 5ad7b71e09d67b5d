import { describe, expect, it } from "vitest";
import { checkTimeoutFor } from "../../src/grpc/agent-service.js";

describe("a GetStatus check's timeout comes from the caller's deadline", () => {
  it("is the deadline less a tenth, at most a second", () => {
    expect(checkTimeoutFor(9_000, 5_000)).toBe(8_100);
    expect(checkTimeoutFor(20_000, 5_000)).toBe(19_000);
    expect(checkTimeoutFor(500, 5_000)).toBe(450);
  });

  it("falls back to the agent's default without a deadline, and stays within bounds", () => {
    expect(checkTimeoutFor(undefined, 5_000)).toBe(5_000);
    expect(checkTimeoutFor(1, 5_000)).toBe(1);
    expect(checkTimeoutFor(3_600_000, 5_000)).toBe(300_000);
  });
});
