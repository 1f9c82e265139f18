// Checks and normalises parameters on the calling thread, so that every driver binds the same
// values, refuses the same mistakes, and a bad value rejects its own call only.

import type { BindParams, BindValue } from "./driver.ts";
import { type StatementInfo, statementInfo } from "./_classify.ts";

const EMPTY: BindParams = Object.freeze([]);
const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/**
 * The parameters of one statement, checked against the SQL: `TypeError` for a value that cannot
 * be bound or a container that is neither an array nor a plain object, `RangeError` for a wrong
 * number of positional values, a missing named one, or an integer beyond 64 bits. Extra named
 * keys are ignored.
 */
export function bindParams(
  sql: string,
  params: unknown,
  shape: StatementInfo = statementInfo(sql),
): BindParams {
  if (params === undefined || params === null) {
    if (shape.count > 0) {
      throw new RangeError(`The statement takes ${shape.count} parameter(s) and none were given`);
    }
    return EMPTY;
  }
  try {
    if (Array.isArray(params)) {
      if (params.length !== shape.count) {
        throw new RangeError(
          `The statement takes ${shape.count} parameter(s) and ${params.length} were given`,
        );
      }
      // A copy: the caller may change its array once the call returns, before it is sent.
      const out = new Array<BindValue>(params.length);
      for (let i = 0; i < params.length; i++) out[i] = bindValue(params[i], i);
      return out;
    }
    const proto = typeof params === "object" ? Object.getPrototypeOf(params) : undefined;
    if (proto === Object.prototype || proto === null) {
      if (shape.positional) {
        throw new RangeError("The statement has positional parameters (?): pass an array");
      }
      const given = params as Record<string, unknown>;
      const named: Record<string, BindValue> = {};
      for (const key of shape.named) {
        if (!(key in given)) throw new RangeError(`Missing named parameter "${key}"`);
        named[key] = bindValue(given[key], key);
      }
      return named;
    }
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError) throw error;
    throw new TypeError(`Cannot read the parameters: ${(error as Error)?.message ?? error}`, {
      cause: error,
    });
  }
  throw new TypeError(`Parameters must be an array or a plain object, not ${describe(params)}`);
}

/** A parameter's position (0-based) or name, as messages name it. */
const parameter = (at: number | string) =>
  typeof at === "number" ? `parameter ${at + 1}` : `parameter "${at}"`;

/** `at`: the parameter's position (0-based) or name. */
function bindValue(value: unknown, at: number | string): BindValue {
  switch (typeof value) {
    case "string":
      return value;
    case "number":
      // An integer-valued number beyond ±2^53 is bound as the exact integer it holds (drivers
      // differ on such numbers: REAL, INTEGER or wrapped); one beyond 64 bits cannot be.
      if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
        if (value >= 2 ** 63 || value < -(2 ** 63)) {
          throw new RangeError(
            `Cannot bind ${parameter(at)}: ${value} is outside SQLite's 64-bit integer range ` +
              "(pass a bigint, or a string)",
          );
        }
        return BigInt(value);
      }
      return Object.is(value, -0) ? 0 : value;
    case "boolean":
      return value ? 1 : 0;
    case "bigint":
      if (value > INT64_MAX || value < INT64_MIN) {
        throw new RangeError(
          `Cannot bind ${parameter(at)}: ${value} is outside SQLite's 64-bit integer range`,
        );
      }
      return value;
    case "object":
      if (value === null) return null;
      if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
        const buffer = value instanceof ArrayBuffer ? value : value.buffer;
        if ((buffer as ArrayBuffer & { detached?: boolean }).detached) {
          throw new TypeError(`Cannot bind ${parameter(at)}: its ArrayBuffer is detached`);
        }
      }
      if (ArrayBuffer.isView(value)) {
        // A copy of exactly its bytes, made now: the caller may reuse its buffer once the call
        // returns, a view's neighbours are never sent, the caller's buffer is never detached,
        // and a Buffer arrives as a plain Uint8Array.
        return new Uint8Array(value.buffer, value.byteOffset, value.byteLength).slice();
      }
      if (value instanceof ArrayBuffer) return new Uint8Array(value.slice(0));
  }
  throw new TypeError(
    `Cannot bind ${parameter(at)}: ${describe(value)} is not a SQLite value ` +
      "(use null, a number, bigint, string, boolean or Uint8Array)",
  );
}

function describe(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "function") return "a function";
  if (typeof value === "symbol") return "a symbol";
  if (typeof value === "object" && value !== null) {
    return Array.isArray(value) ? "an array" : `an object (${value.constructor?.name ?? "Object"})`;
  }
  return `${typeof value} ${String(value)}`;
}

/**
 * The statements of a `batch()`, each with its parameters bound.
 *
 * @throws {TypeError} Not an array of `{ sql, params? }`, or a parameter cannot be bound.
 */
export function bindStatements(statements: unknown): { sql: string; params: BindParams }[] {
  if (!Array.isArray(statements)) {
    throw new TypeError("batch() takes an array of { sql, params }");
  }
  return statements.map((s) => {
    if (typeof s?.sql !== "string") throw new TypeError("Each batch statement needs sql: string");
    return { sql: s.sql, params: bindParams(s.sql, s.params) };
  });
}
