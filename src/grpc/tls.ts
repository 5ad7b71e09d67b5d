import type { PeerCertificate } from "node:tls";

/**
 * TLS material for the agent's gRPC server and the pollers' client. Both sides always use mutual TLS:
 * the server asks for and verifies a client certificate against `ca`, the client presents `cert`.
 * Identity checks beyond the chain (the SPIFFE tenant in the SAN, from `sonde certs`) are plugged in
 * through `verifyPeer` / `checkServer`: a function that throws rejects the peer.
 */
export interface ServerTlsOptions {
  readonly ca: string | Buffer;
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** Called once per connection with the verified client certificate; a throw closes the connection. */
  readonly verifyPeer?: (peer: PeerCertificate) => void;
}

export interface ClientTlsOptions {
  readonly ca: string | Buffer;
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /**
   * Replaces the host-name check of the server certificate (the chain is still verified against
   * `ca`); a throw fails the connection. Without it the usual host-name check applies.
   */
  readonly checkServer?: (peer: PeerCertificate) => void;
}
