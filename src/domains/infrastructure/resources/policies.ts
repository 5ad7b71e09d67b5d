import {
  actionName,
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
 * The infrastructure's role matrix (the inventory's): super users and the system pass, every member
 * of the tenant reads, operators add, edit and run operator actions, admins remove.
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

/**
 * Actions only the system runs (what the registry watcher and result processing observe): no user
 * decides them, so for users no step decides and the policy forbids, whatever their role. Super
 * users pass too (their bypass comes first): they administer every tenant.
 */
export function systemOnly(...actions: string[]): Policy {
  return policy(actionName(...actions), authorizeIf(isSystemActor()));
}
