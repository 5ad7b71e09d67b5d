/**
 * The few `Reflect` metadata functions tsyringe checks for when it loads. @peculiar/x509 registers its
 * algorithms in a tsyringe container, and tsyringe refuses to load without a "reflect-metadata"
 * polyfill, which is not among Sonde's dependencies. It only reads constructor parameter types
 * (none of x509's classes take any) and its own injection tokens, so a per-target map is enough.
 * A full polyfill loaded earlier wins: nothing is replaced.
 */
type MetadataKey = string | symbol;
type Target = object;

const store = new WeakMap<Target, Map<MetadataKey, unknown>>();

function own(target: Target): Map<MetadataKey, unknown> | undefined {
  return store.get(target);
}

function getOwnMetadata(key: MetadataKey, target: Target): unknown {
  return own(target)?.get(key);
}

function getMetadata(key: MetadataKey, target: Target): unknown {
  for (let t: Target | null = target; t !== null; t = Object.getPrototypeOf(t) as Target | null) {
    const found = own(t);
    if (found?.has(key) === true) return found.get(key);
  }
  return undefined;
}

function defineMetadata(key: MetadataKey, value: unknown, target: Target): void {
  let map = own(target);
  if (map === undefined) {
    map = new Map();
    store.set(target, map);
  }
  map.set(key, value);
}

const reflect = Reflect as unknown as Record<string, unknown>;
if (typeof reflect.getMetadata !== "function") {
  reflect.getMetadata = getMetadata;
  reflect.getOwnMetadata = getOwnMetadata;
  reflect.defineMetadata = defineMetadata;
}
