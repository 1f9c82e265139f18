// Which runtime this is, and the binding walpool uses on it unless told otherwise: the one place
// that looks at the runtime's globals.

import type { DriverName } from "./driver.ts";

/** The runtime walpool runs on. */
export type Runtime = "deno" | "bun" | "node";

/** This runtime. */
export const runtime: Runtime = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : "node";

/** The driver of `open()` without a `driver` option: `bun:sqlite` on Bun, `node:sqlite` else. */
export const defaultDriver: DriverName = runtime === "bun" ? "bun:sqlite" : "node:sqlite";

/** Calls `fn` once the event loop has turned: `setImmediate` where there is one (no 1 ms clamp). */
export const nextTurn: (fn: () => void) => void =
  (globalThis as { setImmediate?: (fn: () => void) => void }).setImmediate ??
    ((fn) => setTimeout(fn, 0));
