import { z } from "zod";
import { defineResource } from "../../../kernel/resource/define.js";
import { slugSchema } from "../../../platform/fabric/contract.js";
import { partitions } from "../infrastructure.schema.js";
import { cidrRangesSchema } from "./cidr.js";
import { membersRead, operatorsWriteAdminsDestroy } from "../../../kernel/policy/role-matrix.js";

/**
 * A partition: one IP space of a tenant that its own pollers reach (a site, a customer VRF). The
 * slug is the token in registry keys and dispatch subjects, so it never changes once created.
 * Ranges may overlap other partitions' ranges: the same private space exists at two sites.
 * `default` needs no row: pollers and agents that name it (or any undeclared slug) still register.
 */
export const partitionResource = defineResource({
  name: "partition",
  table: partitions,
  tenancy: "tenant",
  attributes: {
    name: { schema: z.string().trim().min(1).max(200) },
    slug: { schema: slugSchema },
    description: { schema: z.string().max(2000).nullable() },
    cidr_ranges: { schema: cidrRangesSchema },
  },
  identities: { slug: ["slug"] },
  actions: {
    read: { type: "read" },
    create: {
      type: "create",
      accept: ["name", "slug", "description", "cidr_ranges"],
      require: ["name", "slug"],
    },
    update: {
      type: "update",
      accept: ["name", "description", "cidr_ranges"],
      description: "Edits a partition; its slug is fixed (registry keys and subjects carry it).",
    },
    destroy: { type: "destroy" },
  },
  policies: [...membersRead, ...operatorsWriteAdminsDestroy],
  eventArea: "infra",
  description: "IP spaces of a tenant, each reached by its own pollers; ranges may overlap.",
});
