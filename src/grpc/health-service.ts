import { create } from "@bufbuild/protobuf";
import { Code, type ConnectRouter, ConnectError } from "@connectrpc/connect";
import {
  Health,
  HealthCheckResponse_ServingStatus,
  HealthCheckResponseSchema,
} from "./gen/grpc/health/v1/health_pb.js";

/**
 * grpc.health.v1.Health for the agent's own server, so that pollers and `grpc_health_probe` can ask
 * whether it serves. It knows "" (the server) and the listed services; others are NOT_FOUND as the
 * protocol says. While the server drains the answer is NOT_SERVING.
 */
export function healthRoutes(services: readonly string[], isDraining: () => boolean) {
  const known = new Set(["", ...services]);
  const status = () =>
    isDraining() ? HealthCheckResponse_ServingStatus.NOT_SERVING : HealthCheckResponse_ServingStatus.SERVING;
  return (router: ConnectRouter) => {
    router.service(Health, {
      check(request) {
        if (!known.has(request.service))
          throw new ConnectError(`unknown service ${request.service}`, Code.NotFound);
        return create(HealthCheckResponseSchema, { status: status() });
      },
      async *watch(request, context) {
        if (!known.has(request.service)) {
          yield create(HealthCheckResponseSchema, {
            status: HealthCheckResponse_ServingStatus.SERVICE_UNKNOWN,
          });
        } else {
          yield create(HealthCheckResponseSchema, { status: status() });
        }
        // Held open until the caller goes away or the server shuts down (which aborts the signal).
        await new Promise<void>((resolve) => {
          if (context.signal.aborted) resolve();
          context.signal.addEventListener("abort", () => resolve(), { once: true });
        });
      },
    });
  };
}
