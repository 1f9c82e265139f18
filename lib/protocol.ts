/**
 * Every message that crosses a worker boundary, in one place. Types only.
 *
 * Main thread → writer: `init`, then `write` (an array of requests per tick), `cancel`, `close`.
 * Writer → main thread: `ready` or `failed`, then `answers` (one array per commit), `closed`.
 * Readers speak the same way with `read` instead of `write`.
 *
 * @module
 */

import type { BindParams, DriverName } from "./driver.ts";

/** An error as plain data (rebuilt on arrival by `fromErrorData`). */
export interface ErrorData {
  name: "SqliteError" | "RangeError" | "TypeError" | "Error";
  message: string;
  code?: string;
  errcode?: number;
}

/** What a worker needs to open its connection. */
export interface ConnectionConfig {
  driver: DriverName;
  path: string;
  readonly: boolean;
  safeIntegers: boolean;
  busyTimeout: number;
  durability: "normal" | "full";
  /** Extra pragmas, already rendered as `name = value` text. */
  pragmas: string[];
}

/** A statement with its parameters. */
export interface Statement {
  sql: string;
  params: BindParams;
}

/** A request the writer carries out; `tx` marks a statement of the open interactive transaction. */
export type WriteRequest =
  | { id: number; kind: "run" | "get" | "all"; sql: string; params: BindParams; tx?: boolean }
  | { id: number; kind: "exec"; sql: string; tx?: boolean }
  | { id: number; kind: "batch"; stmts: Statement[] }
  | { id: number; kind: "begin" | "commit" | "rollback" };

/** A request a reader carries out. */
export interface ReadRequest {
  id: number;
  kind: "get" | "all";
  sql: string;
  params: BindParams;
}

/** The outcome of one request. */
export interface Answer {
  id: number;
  value?: unknown;
  error?: ErrorData;
  /** Set when a `cancel` reached the request before it started: it was never applied. */
  cancelled?: boolean;
}

/** Main thread → writer worker. */
export type ToWriter =
  | { t: "init"; config: ConnectionConfig; maxBatch: number }
  | { t: "write"; reqs: WriteRequest[] }
  | { t: "cancel"; ids: number[] }
  | { t: "close" };

/** Main thread → reader worker. */
export type ToReader =
  | { t: "init"; config: ConnectionConfig }
  | { t: "read"; reqs: ReadRequest[] }
  | { t: "close" };

/**
 * Any worker → main thread. For grouped writes, `commits` counts the transactions committed for
 * these answers and `largest` is the most requests one of them carried.
 */
export type FromWorker =
  | { t: "ready" }
  | { t: "failed"; error: ErrorData }
  | { t: "answers"; answers: Answer[]; commits?: number; largest?: number }
  | { t: "closed" };
