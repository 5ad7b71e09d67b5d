export { CA_FILES, LEAF_FILES, type OutputFile, writeOutputFiles } from "./files.js";
export {
  hostNames,
  type IssuedCert,
  issueCa,
  issueLeaf,
  type LoadedCa,
  loadCa,
  type PemPair,
} from "./issue.js";
export {
  certificateIdentity,
  type LoadedTlsMaterial,
  loadCaDir,
  loadTlsMaterial,
  type TlsMaterial,
} from "./material.js";
export {
  CERT_COMPONENTS,
  type CertComponent,
  caCommonName,
  isCertComponent,
  parseSpiffeId,
  type SpiffeIdentity,
  spiffeId,
  TRUST_DOMAIN,
} from "./spiffe.js";
export { type PeerCheck, type PeerCheckOptions, peerIdentity, verifyPeerTenant } from "./verify.js";
