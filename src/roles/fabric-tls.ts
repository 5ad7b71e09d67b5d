import type { Logger } from "pino";
import type { ClientTlsOptions, ServerTlsOptions } from "../grpc/tls.js";
import {
  issueCa,
  issueLeaf,
  loadCa,
  loadTlsMaterial,
  verifyPeerTenant,
} from "../platform/fabric/certs/index.js";

/**
 * The mTLS settings of the fabric's gRPC hop, from a component directory that `sonde certs issue`
 * wrote (`ca.crt`, `tls.crt`, `tls.key`): agents accept only pollers and core of their own tenant,
 * pollers accept only agents of theirs.
 */
export async function agentServerTls(dir: string, logger: Logger): Promise<ServerTlsOptions> {
  const material = await loadTlsMaterial(dir);
  return {
    ca: material.ca,
    cert: material.cert,
    key: material.key,
    verifyPeer: verifyPeerTenant(material.identity.tenant, ["poller", "core"], { logger }),
  };
}

export async function pollerClientTls(
  dir: string,
  tenant: string,
  logger: Logger,
): Promise<ClientTlsOptions> {
  const material = await loadTlsMaterial(dir);
  return {
    ca: material.ca,
    cert: material.cert,
    key: material.key,
    checkServer: verifyPeerTenant(tenant, ["agent"], { logger }),
  };
}

/**
 * For the all-in-one process: a CA that lives only in memory, and certificates for its poller and
 * agent, so that even the loopback hop is mutual TLS with the same checks as across networks. Keys
 * never touch disk and die with the process.
 */
export async function ephemeralFabricTls(
  tenant: string,
  ids: { readonly poller: string; readonly agent: string },
  logger: Logger,
): Promise<{ readonly server: ServerTlsOptions; readonly client: ClientTlsOptions }> {
  const issued = await issueCa({ tenant, days: 30 });
  const ca = await loadCa(issued, tenant);
  const agent = await issueLeaf({
    ca,
    identity: { tenant, component: "agent", id: ids.agent },
    hosts: ["127.0.0.1", "localhost"],
    days: 29,
  });
  const poller = await issueLeaf({
    ca,
    identity: { tenant, component: "poller", id: ids.poller },
    hosts: [],
    days: 29,
  });
  return {
    server: {
      ca: issued.certPem,
      cert: agent.certPem,
      key: agent.keyPem,
      verifyPeer: verifyPeerTenant(tenant, ["poller", "core"], { logger }),
    },
    client: {
      ca: issued.certPem,
      cert: poller.certPem,
      key: poller.keyPem,
      checkServer: verifyPeerTenant(tenant, ["agent"], { logger }),
    },
  };
}
