// What a `Database` runs on: the local single writer and readers (worker threads over a file), or
// a remote server. `Database` checks the calls and hands them to its engine.

import type { BackupOptions, Stats, Transaction } from "./types.ts";
import type { ConnectionConfig, ReadKind } from "./protocol.ts";
import type { BindParams } from "./driver.ts";
import type { WriteBody } from "./_write_call.ts";
import type { Writer } from "./writer.ts";
import type { Readers } from "./readers.ts";
import { statsOf } from "./_stats.ts";
import type { Histograms } from "./_metrics.ts";
import { runTransaction } from "./transaction.ts";
import { rowStream } from "./_stream.ts";
import { backup } from "./backup.ts";

/** The engine behind a `Database`. */
export interface Engine {
  /** Queues a write in call order; resolves with its result once committed. */
  write(body: WriteBody, signal?: AbortSignal): Promise<unknown>;
  /** Runs a read. */
  read(
    kind: ReadKind,
    sql: string,
    params: BindParams,
    route?: "inline" | "workers",
  ): Promise<unknown>;
  /** A read's rows, streamed `chunk` at a time (see `Database.iterate`). */
  iterate<T>(
    sql: string,
    params: BindParams,
    chunk: number,
    signal?: AbortSignal,
  ): AsyncGenerator<T, void, undefined>;
  /** Runs `fn` in an interactive transaction (see `Database.transaction`). */
  transaction<T>(
    fn: (tx: Transaction) => T | Promise<T>,
    timeout: number,
    signal?: AbortSignal,
  ): Promise<T>;
  /** Whether the caller runs inside an open transaction callback of this engine. */
  inOwnTransaction(): boolean;
  /** The counters of `Database.stats()`. */
  stats(): Stats;
  /** Its histograms, whole (for `Database.metrics()`). */
  histograms(): Histograms;
  /** Writes a consistent copy of the database to a new file (see `Database.backup`). */
  backup(destination: string | URL, opts?: BackupOptions): Promise<void>;
  /** Commits every accepted write, then closes. */
  close(): Promise<void>;
}

/** The local engine: the writer worker and the readers. */
export function localEngine(
  writer: Writer,
  readers: Readers,
  readerConfig: ConnectionConfig,
): Engine {
  return {
    backup: (destination, opts) => backup(readerConfig, destination, opts),
    write: (body, signal) => writer.request(body, signal),
    read: (kind, sql, params, route) => readers.read(kind, sql, params, route),
    iterate: (sql, params, chunk, signal) => rowStream(readers.iterate(sql, params, chunk), signal),
    transaction: (fn, timeout, signal) => runTransaction(writer, fn, timeout, signal),
    inOwnTransaction: () => writer.inOwnTransaction(),
    stats: () => statsOf(writer, readers),
    histograms: () => writer.stats,
    close: async () => {
      await writer.drained();
      await readers.close();
      await writer.close();
    },
  };
}
