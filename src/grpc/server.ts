import { setMaxListeners } from "node:events";
import {
  createServer,
  createSecureServer,
  type Http2Server,
  type Http2SecureServer,
  type ServerHttp2Session,
} from "node:http2";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Logger } from "pino";
import { SondeError } from "../lib/errors.js";
import type { ServerTlsOptions } from "./tls.js";

/**
 * A gRPC server (HTTP/2, the gRPC protocol only, so grpc-go clients interoperate) on `listen`.
 * With `tls` it requires and verifies client certificates (mutual TLS); plaintext needs `insecure`
 * spelled out, and says so in the log. `stop()` stops accepting, lets running calls finish for
 * `drainMs`, then closes what is left.
 */
export interface GrpcServerOptions {
  /** `host:port`; port 0 picks a free one (see `address`). */
  readonly listen: string;
  readonly tls?: ServerTlsOptions;
  readonly insecure?: boolean;
  readonly routes: ReadonlyArray<(router: ConnectRouter) => void>;
  readonly logger: Logger;
  /** Largest request message accepted. */
  readonly readMaxBytes: number;
  readonly drainMs?: number;
}

export interface RunningGrpcServer {
  /** `host:port` actually bound. */
  readonly address: string;
  readonly tls: boolean;
  /** Aborted when stop() begins: long-lived calls (health Watch) end on it. */
  readonly shutdownSignal: AbortSignal;
  stop(): Promise<void>;
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(listen.trim());
  const port = Number(m?.[3]);
  if (m === null || port > 65535) {
    throw new SondeError(
      "SONDE_CONFIG_INVALID",
      `listen address must be "host:port", not ${JSON.stringify(listen)}`,
    );
  }
  return { host: m[1] ?? (m[2] || "0.0.0.0"), port };
}

export async function startGrpcServer(options: GrpcServerOptions): Promise<RunningGrpcServer> {
  const { host, port } = parseListen(options.listen);
  if (options.tls === undefined && options.insecure !== true) {
    throw new SondeError(
      "SONDE_CONFIG_INVALID",
      "the gRPC server needs TLS material (CA, certificate, key); pass --insecure to serve plaintext",
    );
  }
  const shutdown = new AbortController();
  // Every call in flight links to this signal until it ends: hundreds at once are normal here.
  setMaxListeners(0, shutdown.signal);
  const handler = connectNodeAdapter({
    routes: (router) => {
      for (const register of options.routes) register(router);
    },
    grpc: true,
    grpcWeb: false,
    connect: false,
    readMaxBytes: options.readMaxBytes,
    shutdownSignal: shutdown.signal,
  });
  const tls = options.tls;
  const server: Http2Server | Http2SecureServer =
    tls === undefined
      ? createServer(handler)
      : createSecureServer(
          {
            ca: tls.ca,
            cert: tls.cert,
            key: tls.key,
            requestCert: true,
            rejectUnauthorized: true,
            allowHTTP1: false,
          },
          handler,
        );
  if (tls === undefined) {
    options.logger.warn(
      { listen: options.listen },
      "gRPC server is plaintext (--insecure): no TLS, no client authentication",
    );
  } else if (tls.verifyPeer !== undefined) {
    const verifyPeer = tls.verifyPeer;
    server.on("secureConnection", (socket: TLSSocket) => {
      try {
        verifyPeer(socket.getPeerCertificate());
      } catch (err) {
        options.logger.warn(
          { remote: socket.remoteAddress, reason: err instanceof Error ? err.message : String(err) },
          "gRPC client certificate refused",
        );
        socket.destroy();
      }
    });
  }
  const sessions = new Set<ServerHttp2Session>();
  server.on("session", (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const address =
    bound.family === "IPv6" ? `[${bound.address}]:${bound.port}` : `${bound.address}:${bound.port}`;
  const drainMs = options.drainMs ?? 5_000;

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      shutdown.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // GOAWAY: no new calls on open connections, running ones finish.
      for (const session of sessions) session.close();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, drainMs)))]);
      clearTimeout(timer);
      for (const session of sessions) session.destroy();
      await closed;
    })();
    return stopped;
  };
  return { address, tls: tls !== undefined, shutdownSignal: shutdown.signal, stop };
}
