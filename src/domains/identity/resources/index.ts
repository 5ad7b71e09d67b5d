import type { ResourceDeclaration } from "../../../kernel/resource/define.js";
import { apiTokenResource } from "./api-token.js";
import { invitationResource } from "./invitation.js";
import { membershipResource } from "./membership.js";
import { tenantResource } from "./tenant.js";
import { userResource } from "./user.js";

export { apiTokenResource, invitationResource, membershipResource, tenantResource, userResource };

/** Identity's resources: who may do what, in which tenant. */
export const identityResources: readonly ResourceDeclaration[] = [
  tenantResource,
  userResource,
  membershipResource,
  invitationResource,
  apiTokenResource,
];
