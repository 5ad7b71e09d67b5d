/**
 * How far each discovery source is trusted when two disagree about an attribute: a value is replaced
 * only by a source at least as trusted as the one that set it (device.field_sources remembers who).
 */
export const SOURCE_CONFIDENCE: Readonly<Record<string, number>> = {
  manual: 10,
  snmp: 9,
  mapper: 8,
  agent: 8,
  armis: 7,
  netbox: 7,
  sweep: 5,
  unknown: 1,
};

export function sourceConfidence(source: string | undefined): number {
  return (source !== undefined ? SOURCE_CONFIDENCE[source] : undefined) ?? SOURCE_CONFIDENCE.unknown ?? 1;
}
