// Checks and normalises parameters on the calling thread, so that every driver binds the same
// values and a bad value rejects its own call only.

import type { BindParams, BindValue } from "./driver.ts";

const EMPTY: BindParams = Object.freeze([]);
const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** The parameters of one statement, checked: `TypeError`/`RangeError` for what cannot be bound. */
export function bindParams(params: unknown): BindParams {
  if (params === undefined || params === null) return EMPTY;
  try {
    if (Array.isArray(params)) return params.map((v, i) => bindValue(v, `parameter ${i + 1}`));
    const proto = typeof params === "object" ? Object.getPrototypeOf(params) : undefined;
    if (proto === Object.prototype || proto === null) {
      const named: Record<string, BindValue> = {};
      for (const key of Object.keys(params as object)) {
        named[key] = bindValue((params as Record<string, unknown>)[key], `parameter "${key}"`);
      }
      return named;
    }
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError) throw error;
    throw new TypeError(`Cannot read the parameters: ${(error as Error)?.message ?? error}`, {
      cause: error,
    });
  }
  throw new TypeError(
    `Parameters must be an array or a plain object, not ${describe(params)}`,
  );
}

function bindValue(value: unknown, where: string): BindValue {
  switch (typeof value) {
    case "string":
    case "number":
      return value;
    case "boolean":
      return value ? 1 : 0;
    case "bigint":
      if (value > INT64_MAX || value < INT64_MIN) {
        throw new RangeError(
          `Cannot bind ${where}: ${value} is outside SQLite's 64-bit integer range`,
        );
      }
      return value;
    case "object":
      if (value === null) return null;
      if (value instanceof Uint8Array) {
        // Exact bytes, in a buffer of their own: a view's neighbours are never sent, the caller's
        // buffer is never detached, and Buffer subclasses arrive as plain Uint8Array.
        const whole = value.byteOffset === 0 && value.byteLength === value.buffer.byteLength &&
          value.constructor === Uint8Array && value.buffer instanceof ArrayBuffer;
        return whole ? value : new Uint8Array(value);
      }
      if (ArrayBuffer.isView(value)) {
        return new Uint8Array(value.buffer, value.byteOffset, value.byteLength).slice();
      }
      if (value instanceof ArrayBuffer) return new Uint8Array(value.slice(0));
  }
  throw new TypeError(
    `Cannot bind ${where}: ${describe(value)} is not a SQLite value ` +
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
