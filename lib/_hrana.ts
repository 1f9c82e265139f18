// libSQL's server protocol, Hrana 3 over HTTP, with `fetch` only: the pipeline request, its
// values, results and errors. What a remote database sends and how it reads the answers; the
// engine that decides what to send is `remote.ts`.

import type { BindParams, BindValue } from "./driver.ts";
import type { ErrorData, ReadKind } from "./protocol.ts";
import type { RunResult } from "./types.ts";
import { RemoteError } from "./errors.ts";
import { codeFromMessage, codeName, codeNumber } from "./_sqlite_codes.ts";
import { narrowInteger, rowid } from "./_integers.ts";
import { setColumn } from "./_rows.ts";

/** A value as Hrana carries it (64-bit integers as decimal strings, blobs as base64). */
export type HranaValue =
  | { type: "null" }
  | { type: "integer"; value: string }
  | { type: "float"; value: number }
  | { type: "text"; value: string }
  | { type: "blob"; base64: string };

/** One statement with its arguments. */
export interface HranaStmt {
  sql: string;
  args?: HranaValue[];
  named_args?: { name: string; value: HranaValue }[];
  want_rows?: boolean;
}

/** When a step of a batch runs. */
export type Condition =
  | { type: "ok" | "error"; step: number }
  | { type: "not"; cond: Condition }
  | { type: "and" | "or"; conds: Condition[] }
  | { type: "is_autocommit" };

/** A step of a batch: a statement run only if its condition holds. */
export interface Step {
  condition?: Condition;
  stmt: HranaStmt;
}

/** A request of a pipeline. */
export type HranaRequest =
  | { type: "execute"; stmt: HranaStmt }
  | { type: "batch"; batch: { steps: Step[] } }
  | { type: "close" };

/** An error the server reports for a statement or request. */
export interface HranaError {
  message: string;
  code?: string | null;
}

/** What one statement gave. */
export interface StmtResult {
  cols: { name: string | null }[];
  rows: HranaValue[][];
  affected_row_count: number;
  last_insert_rowid: string | null;
}

/** What a batch gave: per step, its result, its error, or neither when it did not run. */
export interface BatchResult {
  step_results: (StmtResult | null)[];
  step_errors: (HranaError | null)[];
}

/** The answer to one request of a pipeline. */
export type HranaResult =
  | {
    type: "ok";
    response:
      | { type: "execute"; result: StmtResult }
      | { type: "batch"; result: BatchResult }
      | { type: "close" };
  }
  | { type: "error"; error: HranaError };

/** A stream on the server: its baton, and where to send its next request. */
export interface Stream {
  baton: string | null;
  url: string;
}

/** The condition "a transaction is open" (SQLite has not rolled it back). */
export const IN_TRANSACTION: Condition = { type: "not", cond: { type: "is_autocommit" } };

/** The server's URL, as given to `open()`: `http:`, `https:` or `libsql:` (HTTPS, or HTTP with `?tls=0`). */
export function isRemote(location: string | URL): boolean {
  return /^(?:https?|libsql):/i.test(String(location));
}

/** Speaks Hrana over HTTP to one server. */
export class HranaClient {
  /** The pipeline endpoint of a new stream. */
  readonly url: string;
  /** The server, as messages name it. */
  readonly origin: string;
  #headers: Record<string, string>;
  #timeout: number;

  constructor(location: string | URL, authToken: string | undefined, timeoutMs: number) {
    const url = new URL(String(location));
    const plain = url.searchParams.get("tls") === "0";
    for (const key of url.searchParams.keys()) {
      if (key !== "tls") {
        throw new TypeError(`Unsupported parameter "${key}" in the database URL (only tls=0)`);
      }
    }
    if (url.protocol === "libsql:") url.protocol = plain ? "http:" : "https:";
    else if (plain) throw new TypeError("tls=0 is for libsql: URLs; use an http: URL");
    if (url.username || url.password) {
      throw new TypeError("Give the credentials as the authToken option, not in the URL");
    }
    this.origin = url.origin;
    this.url = `${url.origin}${url.pathname.replace(/\/$/, "")}/v3/pipeline`;
    this.#headers = { "content-type": "application/json" };
    if (authToken !== undefined) this.#headers.authorization = `Bearer ${authToken}`;
    this.#timeout = timeoutMs;
  }

  /**
   * Sends `requests` as one pipeline on `stream` (a new one if not given), and returns their
   * results with the stream's next baton.
   *
   * @throws {RemoteError} Unreachable (not applied), refused (`status`), or no answer in time.
   */
  async pipeline(
    requests: HranaRequest[],
    stream: Stream = { baton: null, url: this.url },
  ): Promise<{ stream: Stream; results: HranaResult[] }> {
    const signal = AbortSignal.timeout(this.#timeout);
    const sent = () =>
      new RemoteError(
        `No answer from ${this.origin} within ${this.#timeout} ms (requestTimeout): the ` +
          "request may have been applied",
        true,
      );
    let text: string;
    let status: number;
    try {
      const response = await fetch(stream.url, {
        method: "POST",
        headers: this.#headers,
        body: JSON.stringify({ baton: stream.baton, requests }),
        signal,
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      if (signal.aborted) throw sent();
      if (neverSent(error)) {
        throw new RemoteError(`Cannot reach ${this.origin}: ${reason(error)}`, false, {
          cause: error,
        });
      }
      throw new RemoteError(
        `The connection to ${this.origin} failed after the request was sent (${
          reason(error)
        }): it may have been applied`,
        true,
        { cause: error },
      );
    }
    if (status !== 200) {
      let message = text.slice(0, 500);
      try {
        const body = JSON.parse(text);
        message = body.message ?? body.error ?? message;
      } catch { /* not JSON */ }
      // A request the server refused as a whole was not carried out; a 5xx may come after it was.
      throw new RemoteError(
        `${this.origin} refused the request: HTTP ${status}${message ? ` (${message})` : ""}`,
        status >= 500,
        { status },
      );
    }
    let body: { baton?: string | null; base_url?: string | null; results?: HranaResult[] };
    try {
      body = JSON.parse(text);
    } catch {
      body = {};
    }
    if (!Array.isArray(body.results) || body.results.length !== requests.length) {
      // Not the server's answer (a proxy's page, a wrong path): what it did is unknown.
      throw new RemoteError(
        `${this.origin} answered with something that is not a Hrana pipeline result: the ` +
          "request may have been applied",
        true,
      );
    }
    return {
      stream: {
        baton: body.baton ?? null,
        url: body.base_url ? `${body.base_url.replace(/\/$/, "")}/v3/pipeline` : stream.url,
      },
      results: body.results,
    };
  }
}

/** Whether a failed `fetch` never reached the server (no connection was made). */
function neverSent(error: unknown): boolean {
  for (
    let e = error as { code?: unknown; message?: unknown; cause?: unknown } | undefined;
    e;
    e = e.cause as typeof e
  ) {
    if (["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ConnectionRefused"].includes(String(e.code))) {
      return true;
    }
    if (
      /\(Connect\)|connection refused|unable to connect|bad port|blocked/i.test(String(e.message))
    ) {
      return true;
    }
  }
  return false;
}

/** The innermost message of a fetch failure. */
function reason(error: unknown): string {
  let e = error as { message?: string; cause?: unknown };
  while (e?.cause instanceof Error) e = e.cause;
  return String(e?.message ?? error);
}

/** `params` as a statement's arguments (named ones by their bare names, as the server takes them). */
export function statement(sql: string, params: BindParams, wantRows: boolean): HranaStmt {
  const stmt: HranaStmt = { sql, want_rows: wantRows };
  if (Array.isArray(params)) {
    if (params.length) stmt.args = params.map(toValue);
  } else {
    const named = Object.entries(params as Record<string, BindValue>);
    if (named.length) stmt.named_args = named.map(([name, v]) => ({ name, value: toValue(v) }));
  }
  return stmt;
}

function toValue(value: BindValue): HranaValue {
  if (value === null) return { type: "null" };
  switch (typeof value) {
    case "number":
      if (Number.isInteger(value)) return { type: "integer", value: String(value) };
      if (!Number.isFinite(value)) {
        throw new RangeError(
          `${value} cannot be sent to a remote database (JSON has no such number)`,
        );
      }
      return { type: "float", value };
    case "bigint":
      return { type: "integer", value: String(value) };
    case "string":
      return { type: "text", value };
    default:
      return { type: "blob", base64: toBase64(value) };
  }
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function fromValue(value: HranaValue, safeIntegers: boolean): unknown {
  switch (value.type) {
    case "null":
      return null;
    case "integer":
      return safeIntegers ? BigInt(value.value) : narrowInteger(BigInt(value.value));
    case "float":
      return value.value;
    case "text":
      return value.value;
    case "blob": {
      const binary = atob(value.base64);
      const bytes = new Uint8Array(binary.length);
      for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
      return bytes;
    }
  }
}

/** A statement's result as `kind` asks: a run result, the first row, every row, or arrays. */
export function resultOf(
  kind: "run" | ReadKind,
  result: StmtResult,
  safeIntegers: boolean,
): unknown {
  if (kind === "run") return runResult(result, safeIntegers);
  if (kind === "values") {
    return result.rows.map((row) => row.map((v) => fromValue(v, safeIntegers)));
  }
  const names = result.cols.map((c, i) => c.name ?? `column${i}`);
  const toRow = (row: HranaValue[]) => {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < names.length; i++) {
      setColumn(out, names[i], fromValue(row[i], safeIntegers));
    }
    return out;
  };
  if (kind === "get") return result.rows.length ? toRow(result.rows[0]) : undefined;
  return result.rows.map(toRow);
}

/** `changes` and `lastInsertRowid` (0 when the statement inserted nothing). */
export function runResult(result: StmtResult, safeIntegers: boolean): RunResult {
  return {
    changes: result.affected_row_count,
    lastInsertRowid: rowid(BigInt(result.last_insert_rowid ?? 0), safeIntegers),
  };
}

/**
 * A server error as walpool's: a `SqliteError` with the extended code SQLite's message implies
 * (the server reports only the primary one), or, for the server's own refusals (a parse error,
 * an expired stream…), `SQLITE_ERROR` with the server's code in the message.
 */
export function errorData(error: HranaError): ErrorData {
  const message = error.message.replace(/^SQLite error: /, "");
  const code = error.code ?? "";
  if (!code.startsWith("SQLITE_")) {
    return {
      name: "SqliteError",
      message: code ? `${message} (${code})` : message,
      code: "SQLITE_ERROR",
      errcode: 1,
    };
  }
  const primary = codeNumber(code) & 0xff;
  const implied = codeFromMessage(message);
  const errcode = (implied & 0xff) === primary ? implied : codeNumber(code);
  return { name: "SqliteError", message, code: codeName(errcode), errcode };
}
