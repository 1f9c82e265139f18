// Shared by the test files: temporary database paths, which drivers this runtime has, and how
// to start a child process of the same runtime.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DriverName } from "../lib/driver.ts";

export const runtime: "deno" | "bun" | "node" = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : "node";

const dirs: string[] = [];

/** A fresh path in a new temporary directory (removed at exit). */
export function tempPath(name = "test.db"): string {
  const dir = mkdtempSync(join(tmpdir(), "walpool-"));
  dirs.push(dir);
  return join(dir, name);
}

globalThis.addEventListener?.("unload", cleanUp);
(globalThis as { process?: { on(e: string, f: () => void): void } }).process?.on("exit", cleanUp);
function cleanUp() {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * Whether `driver` can run here; a string says why not (the tests are then skipped with it).
 */
export async function driverAvailable(driver: DriverName): Promise<true | string> {
  if (driver === "bun:sqlite") return runtime === "bun" ? true : "bun:sqlite exists on Bun only";
  if (driver === "node:sqlite") return true;
  if (runtime !== "deno") return "@db/sqlite is a Deno FFI binding";
  const env = (globalThis as { Deno?: { env: { get(k: string): string | undefined } } }).Deno?.env;
  if (!env?.get("DENO_SQLITE_PATH")) {
    return "@db/sqlite tests need DENO_SQLITE_PATH and an import map resolving jsr:@db/sqlite@0.13 (see README, Development)";
  }
  try {
    const spec = "jsr:@db/sqlite@0.13";
    await import(spec);
    return true;
  } catch (error) {
    return `@db/sqlite could not be loaded: ${(error as Error).message}`;
  }
}

/** The command that runs a script file with this same runtime. */
export function runtimeCommand(script: string, ...args: string[]): [string, string[]] {
  const exe = (globalThis as { process: { execPath: string } }).process.execPath;
  return runtime === "deno" ? [exe, ["run", "-A", script, ...args]] : [exe, [script, ...args]];
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Resolves once `condition()` holds, checking it every 2 ms: for a state that no event announces.
 * Rejects, naming `what`, if it still does not hold after `timeoutMs`.
 */
export async function waitFor(
  condition: () => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(2);
  }
}

/**
 * `promise`, or a rejection naming `what` if it has not settled after `timeoutMs`: a test that
 * waits for an event fails, instead of hanging, when the event never comes.
 */
export function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Settles every promise and sorts them into values and errors. */
export async function settle<T>(promises: Promise<T>[]) {
  const results = await Promise.allSettled(promises);
  return {
    values: results.flatMap((r) => r.status === "fulfilled" ? [r.value] : []),
    errors: results.flatMap((r) => r.status === "rejected" ? [r.reason as Error] : []),
  };
}

/**
 * Starts the lock holder in another process; resolves once it holds the write lock (or a read
 * snapshot), with a promise of its exit.
 */
export function holdLock(
  path: string,
  ms: number,
  mode: "write" | "read" = "write",
): Promise<{ exited: Promise<string> }> {
  const script = fileURLToPath(new URL("./_lock_holder.ts", import.meta.url));
  const [cmd, args] = runtimeCommand(script, path, String(ms), mode);
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  const exited = new Promise<string>((resolve) => child.on("close", () => resolve(out)));
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (chunk) => {
      out += chunk;
      if (out.includes("locked")) resolve({ exited });
    });
    child.on(
      "close",
      (code) => reject(new Error(`lock holder exited (${code}) before locking: ${out}`)),
    );
  });
}
