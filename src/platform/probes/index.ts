export { CheckAbort, type CheckContext, contextFor } from "./context.js";
export { dnsProbe } from "./dns.js";
export { httpProbe } from "./http.js";
export { createIcmpProbe, type IcmpProbeOptions, parsePingOutput } from "./icmp.js";
export { type CheckRequest, parseCheck, splitHostPort } from "./parse.js";
export {
  type CheckRunner,
  type CheckRunnerOptions,
  createCheckRunner,
  type ScheduledCheck,
} from "./runner.js";
export { tcpProbe } from "./tcp.js";
export * from "./types.js";
