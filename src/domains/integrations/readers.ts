import { SondeError } from "../../lib/errors.js";
import type { DeviceUpdateInput } from "../inventory/dire/update.js";
import { ArmisClient } from "./armis/client.js";
import { armisUpdate } from "./armis/mapping.js";
import type { HttpPolicy } from "./http/policy.js";
import type { IntegrationKind } from "./integrations.schema.js";
import { NetboxClient } from "./netbox/client.js";
import { netboxUpdate } from "./netbox/mapping.js";
import type { DevicePage, DeviceReader } from "./reader.js";

/** What a reader needs of a source: its record's settings and the revealed credentials. */
export interface SourceSettings {
  readonly kind: IntegrationKind;
  readonly endpoint: string;
  readonly credentials: string;
  readonly partition: string;
  readonly query: string | null;
  readonly pageSize: number;
  readonly policy?: HttpPolicy;
}

type RawPages = AsyncGenerator<{ readonly results: readonly unknown[]; readonly total: number | null }>;
type Mapping = (raw: unknown, partition: string) => DeviceUpdateInput | undefined;

/** Maps each raw page; records the mapping refuses are counted, not sent. */
async function* mapped(raw: RawPages, map: Mapping, partition: string): AsyncGenerator<DevicePage> {
  for await (const page of raw) {
    const updates = page.results.map((r) => map(r, partition)).filter((u) => u !== undefined);
    yield {
      updates,
      skipped: page.results.length - updates.length,
      records: page.results.length,
      total: page.total,
    };
  }
}

/** The reader for a source's kind: its client, paging, and the mapping to DeviceUpdates. */
export function deviceReader(s: SourceSettings): DeviceReader {
  const common = { endpoint: s.endpoint, pageSize: s.pageSize, ...(s.policy ? { policy: s.policy } : {}) };
  switch (s.kind) {
    case "armis": {
      const client = new ArmisClient({ ...common, secretKey: s.credentials, aql: s.query });
      return { pages: (signal) => mapped(client.devices(signal), armisUpdate, s.partition) };
    }
    case "netbox": {
      const client = new NetboxClient({ ...common, token: s.credentials, query: s.query });
      return { pages: (signal) => mapped(client.devices(signal), netboxUpdate, s.partition) };
    }
    default:
      throw new SondeError("SONDE_INTERNAL", `no reader for integration kind ${String(s.kind)}`);
  }
}
