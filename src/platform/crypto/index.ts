export { encryptionKeys } from "./crypto.schema.js";
export { decryptionFailed, ENVELOPE_PREFIX, envelopeKeyId, parseEnvelope } from "./envelope.js";
export { type KeyInfo, type Keyring, listKeys, openKeyring } from "./keyring.js";
