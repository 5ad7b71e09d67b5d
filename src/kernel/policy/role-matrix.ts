import {
  actionName,
  actionType,
  authorizeIf,
  bypass,
  isSystemActor,
  policy,
  roleAtLeast,
  superUser,
} from "./checks.js";
import type { Policy } from "./types.js";

/**
 * The tenant role matrix most resources share: super users and the system pass, every member of the
 * tenant reads; operators add and edit, admins remove. A resource lists these and adds rows for its
 * own actions.
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
 * Actions only the system runs (what watchers and result processing observe): no user decides them,
 * so for users no step decides and the policy forbids, whatever their role. Super users pass too when
 * `membersRead` comes first (its bypass): they administer every tenant.
 */
export function systemOnly(...actions: string[]): Policy {
  return policy(actionName(...actions), authorizeIf(isSystemActor()));
}
