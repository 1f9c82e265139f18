// Loads a driver only when it is chosen: each binding exists on some runtimes only.

import type { Driver, DriverName } from "./driver.ts";

/** The driver adapting the named binding. */
export async function loadDriver(name: DriverName): Promise<Driver> {
  switch (name) {
    case "bun:sqlite":
      return (await import("./drivers/bun_sqlite.ts")).driver;
    case "node:sqlite":
      return (await import("./drivers/node_sqlite.ts")).driver;
    case "@db/sqlite":
      return (await import("./drivers/db_sqlite.ts")).driver;
    default:
      throw new TypeError(`Unknown driver "${name}"`);
  }
}
