import {
  createIcmpProbe,
  dnsProbe,
  httpProbe,
  type IcmpProbeOptions,
  type ProbeSet,
  tcpProbe,
} from "../platform/probes/index.js";
import { grpcHealthProbe } from "./health-probe.js";

/** Every probe an agent runs: the platform's plus the gRPC health probe. */
export function agentProbes(options: { icmp?: IcmpProbeOptions } = {}): ProbeSet {
  return {
    port: tcpProbe,
    icmp: createIcmpProbe(options.icmp),
    http: httpProbe,
    dns: dnsProbe,
    grpc: grpcHealthProbe,
  };
}
