// The raw binding of the running runtime (bun:sqlite on Bun, node:sqlite on Deno and Node): the
// baseline every walpool number is compared with. Also the facts a report needs (runtime, CPU).

import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

export const runtime: "deno" | "bun" | "node" = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : "node";

/** The binding walpool uses by default here, and the one the baselines use. */
export const rawDriver: "bun:sqlite" | "node:sqlite" = runtime === "bun"
  ? "bun:sqlite"
  : "node:sqlite";

/** A prepared statement of the raw binding (the part the benchmarks use). */
export interface RawStatement {
  run(...params: unknown[]): unknown;
  get(...params: unknown[]): unknown;
}

/** A raw connection: every call runs synchronously on the calling thread. */
export interface RawDb {
  exec(sql: string): void;
  prepare(sql: string): RawStatement;
  close(): void;
}

interface RawConstructor {
  new (path: string, options?: Record<string, unknown>): RawDb;
}

// Computed specifiers: each runtime loads only the binding it has.
const binding: RawConstructor = runtime === "bun"
  ? (await import("bun:" + "sqlite")).Database
  : (await import("node:" + "sqlite")).DatabaseSync;

/** Options of {@linkcode openRaw}. */
export interface RawOptions {
  /** `PRAGMA synchronous`. */
  synchronous?: "NORMAL" | "FULL";
  /** `PRAGMA busy_timeout` in ms. */
  busyTimeout?: number;
}

/** Opens a raw connection in WAL mode with the given `synchronous` and `busy_timeout`. */
export function openRaw(path: string, options: RawOptions = {}): RawDb {
  const db = new binding(path, runtime === "bun" ? { create: true } : {});
  db.exec(`PRAGMA busy_timeout = ${options.busyTimeout ?? 5000}`);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec(`PRAGMA synchronous = ${options.synchronous ?? "NORMAL"}`);
  return db;
}

/** Whether an error is SQLite's SQLITE_BUSY (any extended form), from any binding or walpool. */
export function isBusy(error: unknown): boolean {
  const e = error as { code?: unknown; errcode?: unknown; errno?: unknown; message?: unknown };
  if (typeof e?.code === "string" && e.code.startsWith("SQLITE_BUSY")) return true;
  for (const n of [e?.errcode, e?.errno]) {
    if (typeof n === "number" && (n & 0xff) === 5) return true;
  }
  return typeof e?.message === "string" && /database is locked|SQLITE_BUSY/i.test(e.message);
}

/** A short name of an error for counting: its SQLite code, or its name. */
export function errorName(error: unknown): string {
  if (isBusy(error)) return "SQLITE_BUSY";
  const e = error as { code?: unknown; name?: unknown };
  return typeof e?.code === "string" ? e.code : String(e?.name ?? "Error");
}

/** The runtime and its version, e.g. `Deno 2.9.6`. */
export function runtimeVersion(): string {
  const g = globalThis as {
    Deno?: { version: { deno: string } };
    Bun?: { version: string };
    process?: { version: string };
  };
  if (g.Deno) return `Deno ${g.Deno.version.deno}`;
  if (g.Bun) return `Bun ${g.Bun.version}`;
  return `Node ${g.process?.version.replace(/^v/, "")}`;
}

/** The machine: CPU model from /proc/cpuinfo and the number of CPUs the process can use. */
export function machine(): { cpu: string; cpus: number } {
  let cpu = "unknown";
  try {
    cpu = /^model name\s*:\s*(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? cpu;
  } catch { /* not Linux */ }
  return { cpu, cpus: availableParallelism() };
}

/** The text of row `i`: about 60 bytes, different for every row. */
export function body(i: number): string {
  return `row ${i} ` + "lorem ipsum dolor sit amet consectetur adipiscing elit".slice(0, 52);
}
