import { SondeError } from "../lib/errors.js";
import type { ResourceDeclaration } from "./resource/define.js";

const PLAIN_ID = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A resource's state machine as a Mermaid `stateDiagram-v2`, drawn from the declaration alone (the
 * same table the kernel enforces, so the picture cannot drift from the behaviour):
 *
 *   stateDiagram-v2
 *       [*] --> draft
 *       draft --> published : publish
 *
 * Order is the declaration's: transitions as listed, and within one the `from` states as listed, so
 * the text is stable and diffs well. A declared state that no transition reaches or leaves is listed
 * on its own line. States that are not plain identifiers get an alias (`state "in review" as s2`).
 */
export function stateMachineMermaid(resource: ResourceDeclaration): string {
  const sm = resource.stateMachine;
  if (sm === undefined) {
    throw new SondeError("SONDE_BAD_REQUEST", `resource ${resource.name} has no state machine`, {
      meta: { resource: resource.name },
    });
  }
  const ids = new Map<string, string>();
  const aliases: string[] = [];
  // Aliases must not collide with plain state names (or each other).
  const taken = new Set(sm.states.filter((s) => PLAIN_ID.test(s)));
  const id = (state: string): string => {
    let known = ids.get(state);
    if (known === undefined) {
      if (PLAIN_ID.test(state)) {
        known = state;
      } else {
        let n = aliases.length + 1;
        while (taken.has(`s${n}`)) n += 1;
        known = `s${n}`;
        taken.add(known);
        aliases.push(`    state "${state.replace(/"/g, "'")}" as ${known}`);
      }
      ids.set(state, known);
    }
    return known;
  };
  const lines = [`    [*] --> ${id(sm.initial)}`];
  for (const t of sm.transitions) {
    for (const from of t.from) lines.push(`    ${id(from)} --> ${id(t.to)} : ${t.action}`);
  }
  const used = new Set(sm.transitions.flatMap((t) => [...t.from, t.to]).concat(sm.initial));
  for (const state of sm.states) if (!used.has(state)) lines.push(`    ${id(state)}`);
  return ["stateDiagram-v2", ...aliases, ...lines].join("\n") + "\n";
}
