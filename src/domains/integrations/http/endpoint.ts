/**
 * A URL under a source's endpoint: `https://netbox.example/tools` + `/api/dcim/devices/` keeps the
 * prefix (a NetBox behind a path), which `new URL(path, base)` would drop.
 */
export function endpointUrl(endpoint: string, path: string): URL {
  return new URL(`${endpoint.replace(/\/+$/, "")}${path}`);
}
