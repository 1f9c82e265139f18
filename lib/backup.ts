// `Database.backup()`: a consistent copy of a local database, made by `VACUUM INTO` on a
// read-only connection in a worker of its own. It reads one snapshot (a read transaction), so
// writes go on meanwhile and the writer is never held; progress is the copy's size so far.

import { existsSync, rmSync, statSync } from "node:fs";
import type { ConnectionConfig, ReadRequest } from "./protocol.ts";
import type { BackupOptions } from "./types.ts";
import { WorkerClient } from "./_worker_client.ts";
import { databasePath } from "./_options.ts";

/** How often (ms) progress is reported while the copy is made. */
const PROGRESS_MS = 100;

/**
 * Copies the database of `config` (its reader configuration) to `destination`, a new file.
 *
 * @throws {Error} The destination exists.
 * @throws {SqliteError} The copy could not be written (its message names the destination).
 */
export async function backup(
  config: ConnectionConfig,
  destination: string | URL,
  opts: BackupOptions = {},
): Promise<void> {
  const path = databasePath(destination);
  const onProgress = opts.onProgress;
  if (onProgress !== undefined && typeof onProgress !== "function") {
    throw new TypeError("backup() option onProgress must be a function");
  }
  if (existsSync(path)) {
    throw new Error(`The backup destination ${path} exists: backup() writes a new file only`);
  }
  const worker = await WorkerClient.start<ReadRequest>(
    "reader",
    { t: "init", config: { ...config, readonly: true, copies: true } },
    () => {},
    () => {},
  );
  let totalBytes = 0;
  const size = () => {
    try {
      return statSync(path).size;
    } catch {
      return 0;
    }
  };
  const report = (bytes: number) => {
    try {
      onProgress?.({ bytes, totalBytes: Math.max(totalBytes, bytes) });
    } catch (error) {
      console.error("walpool: the backup's onProgress threw", error);
    }
  };
  const ask = (sql: string, params: ReadRequest["params"]) =>
    new Promise<unknown>((resolve, reject) =>
      worker.send({ id: nextId++, kind: "all", sql, params }, { resolve, reject })
    );
  let timer: ReturnType<typeof setInterval> | undefined;
  try {
    const [pages] = await ask(
      "SELECT page_count * page_size AS bytes FROM pragma_page_count(), pragma_page_size()",
      [],
    ) as { bytes: number }[];
    totalBytes = pages.bytes;
    if (onProgress) timer = setInterval(() => report(size()), PROGRESS_MS);
    try {
      await ask("VACUUM INTO ?", [path]);
    } catch (error) {
      const e = error as Error;
      // A partial copy is no copy; a file that appeared meanwhile is someone else's.
      if (!/already exists/.test(e.message)) rmSync(path, { force: true });
      e.message = `Cannot write the backup to ${path}: ${e.message}`;
      throw e;
    }
    clearInterval(timer);
    const bytes = size();
    totalBytes = bytes;
    report(bytes);
  } finally {
    clearInterval(timer);
    await worker.close();
  }
}

let nextId = 1;
