import { describe, expect, it } from "vitest";
import { errorBody, toSondeError } from "../../src/api/http/error-response.js";
import { ErrorCatalogue, GrpcStatus, SondeError } from "../../src/lib/errors.js";

describe("error catalogue", () => {
  it("gives every code a stable prefix, an HTTP error status, a gRPC status and a title", () => {
    for (const [code, def] of Object.entries(ErrorCatalogue)) {
      expect(code).toMatch(/^SONDE_[A-Z_]+$/);
      expect(def.httpStatus).toBeGreaterThanOrEqual(400);
      expect(def.httpStatus).toBeLessThan(600);
      expect(Object.values(GrpcStatus)).toContain(def.grpcStatus);
      expect(def.title.length).toBeGreaterThan(0);
    }
  });

  it("marks validation and authorization failures as not retryable, transient ones as retryable", () => {
    expect(ErrorCatalogue.SONDE_VALIDATION_FAILED.retryable).toBe(false);
    expect(ErrorCatalogue.SONDE_FORBIDDEN.retryable).toBe(false);
    expect(ErrorCatalogue.SONDE_DB_SERIALIZATION_FAILURE.retryable).toBe(true);
    expect(ErrorCatalogue.SONDE_BUS_TIMEOUT.retryable).toBe(true);
  });

  it("serialises to a JSON:API error object without the cause", () => {
    const err = new SondeError("SONDE_VALIDATION_FAILED", "name is required", {
      pointer: "/data/attributes/name",
      cause: new Error("secret internals"),
    });
    const body = errorBody(err);
    expect(body).toEqual({
      errors: [
        {
          status: "422",
          code: "SONDE_VALIDATION_FAILED",
          title: "Validation failed",
          detail: "name is required",
          source: { pointer: "/data/attributes/name" },
          meta: { retryable: false },
        },
      ],
    });
    expect(JSON.stringify(body)).not.toContain("secret internals");
  });

  it("maps framework errors onto catalogue codes and hides unknown ones", () => {
    expect(toSondeError({ code: "FST_ERR_CTP_BODY_TOO_LARGE", statusCode: 413 }).code).toBe(
      "SONDE_PAYLOAD_TOO_LARGE",
    );
    expect(toSondeError({ code: "FST_ERR_CTP_INVALID_MEDIA_TYPE", statusCode: 415 }).code).toBe(
      "SONDE_UNSUPPORTED_MEDIA_TYPE",
    );
    const hidden = toSondeError(new Error("connection to 10.0.0.5 refused"));
    expect(hidden.code).toBe("SONDE_INTERNAL");
    expect(hidden.message).not.toContain("10.0.0.5");
  });
});
