import { Code, ConnectError } from "@connectrpc/connect";
import { type GrpcStatusCode, isSondeError } from "../lib/errors.js";

/**
 * Catalogue errors leave gRPC handlers as ConnectErrors with the catalogue's gRPC status and the
 * catalogue code in the `sonde-error-code` trailer; anything else is an INTERNAL error whose text is
 * not sent (it may hold details meant for the log only).
 */
export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (isSondeError(err)) {
    return new ConnectError(err.message, err.grpcStatus as GrpcStatusCode as Code, {
      "sonde-error-code": err.code,
    });
  }
  return new ConnectError("internal error", Code.Internal);
}
