// Which driver a connection uses: one of walpool's own, by name, loaded only when chosen (each
// binding exists on some runtimes only), or a module of the caller's, by URL, imported by every
// thread that opens a connection (the writer, each reader, the calling thread's reader).

import type { Driver, DriverName } from "./driver.ts";

/** walpool's own drivers, by name: every `DriverName` (the compiler checks), none more. */
const BUILT_IN: Record<DriverName, () => Promise<{ driver: Driver }>> = {
  "bun:sqlite": () => import("./drivers/bun_sqlite.ts"),
  "node:sqlite": () => import("./drivers/node_sqlite.ts"),
  "@db/sqlite": () => import("./drivers/db_sqlite.ts"),
};

/** The names of walpool's own drivers. */
export const DRIVER_NAMES = Object.keys(BUILT_IN) as readonly DriverName[];

/** The schemes a driver module's URL may have. */
const MODULE_SCHEMES = ["file:", "http:", "https:"];

const isDriverName = (name: string): name is DriverName => Object.hasOwn(BUILT_IN, name);

/**
 * Checks the `driver` option: a driver's name, or a module's URL (a `URL`, or a string that
 * parses as one), given back as its `href`. A string that is neither (a typo, a relative path)
 * is refused rather than imported.
 *
 * @throws {TypeError} It is neither.
 */
export function checkDriver(driver: unknown, fallback: DriverName): string {
  if (driver === undefined) return fallback;
  if (typeof driver === "string" && isDriverName(driver)) return driver;
  const href = moduleHref(driver);
  if (href) return href;
  throw new TypeError(
    `Unknown driver "${String(driver)}": use ${DRIVER_NAMES.map((n) => `"${n}"`).join(", ")} ` +
      `or the URL of a driver module (${MODULE_SCHEMES.join(", ")})`,
  );
}

/**
 * A module's URL as its `href`: a `URL`, or a string that parses as one, of a scheme walpool
 * imports modules from (`file:`, `http:`, `https:`); `undefined` for anything else.
 */
export function moduleHref(value: unknown): string | undefined {
  const url = value instanceof URL
    ? value
    : typeof value === "string" && URL.canParse(value)
    ? new URL(value)
    : undefined;
  return url && MODULE_SCHEMES.includes(url.protocol) ? url.href : undefined;
}

/**
 * The driver named by `driver`, an option checked by {@linkcode checkDriver}.
 *
 * @throws {Error} A driver module cannot be imported.
 * @throws {TypeError} A driver module exports no `Driver`.
 */
export async function loadDriver(driver: string): Promise<Driver> {
  if (isDriverName(driver)) return (await BUILT_IN[driver]()).driver;
  let module: { driver?: unknown; default?: unknown };
  try {
    module = await import(driver);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Cannot import the driver module ${driver}: ${reason}`, { cause: error });
  }
  const found = module.driver ?? module.default;
  if (!isDriver(found)) {
    throw new TypeError(
      `The driver module ${driver} exports no Driver: it needs an export named "driver" (or a ` +
        "default export) with name, open() and errorInfo()",
    );
  }
  return found;
}

function isDriver(value: unknown): value is Driver {
  const d = value as Partial<Driver> | null;
  return typeof d === "object" && d !== null && typeof d.name === "string" &&
    typeof d.open === "function" && typeof d.errorInfo === "function";
}
