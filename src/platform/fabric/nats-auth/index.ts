export { type NatsUser, renderAuthorization } from "./config.js";
export { credentialsUrl, generatePassword } from "./credentials.js";
export {
  CORE_USER,
  corePermissions,
  type NatsPermissions,
  tenantInboxPrefix,
  tenantPermissions,
  tenantUser,
} from "./permissions.js";
export { AUTH_FILE, CORE_CREDENTIALS, type NatsAuthPlan, planNatsAuth, tenantCredentials } from "./plan.js";
