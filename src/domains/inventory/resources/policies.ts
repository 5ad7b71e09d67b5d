import {
  actionType,
  authorizeIf,
  bypass,
  isSystemActor,
  policy,
  roleAtLeast,
  superUser,
} from "../../../kernel/policy/checks.js";
import type { Policy } from "../../../kernel/policy/types.js";

/**
 * The inventory's role matrix, shared by its resources: super users and the system pass, every member
 * of the tenant reads; operators add and edit, admins remove. Resources add their own actions' rows.
 */
export const membersRead: readonly Policy[] = [
  bypass(superUser()),
  bypass(isSystemActor()),
  policy(actionType("read"), authorizeIf(roleAtLeast("viewer"))),
];

export const operatorsWriteAdminsDestroy: readonly Policy[] = [
  policy(actionType("create", "update"), authorizeIf(roleAtLeast("operator"))),
  policy(actionType("destroy"), authorizeIf(roleAtLeast("admin"))),
];
