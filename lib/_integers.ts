// Integer narrowing for bindings that can only read integers exactly as bigint.

/**
 * Turns a `bigint` into the `number` of the same value: an integer is never rounded.
 *
 * @throws {RangeError} `value` is not a safe integer (beyond ±(2^53 - 1)).
 */
export function narrowInteger(value: bigint): number {
  if (value > 9007199254740991n || value < -9007199254740991n) {
    throw new RangeError(
      `Integer ${value} is beyond ±2^53 and cannot be a number without rounding; ` +
        "open the database with safeIntegers: true to read it as a bigint",
    );
  }
  return Number(value);
}

/** Narrows every `bigint` of a row (object or array) in place (see {@linkcode narrowInteger}). */
export function narrowRow<T extends Record<string, unknown> | unknown[]>(row: T): T {
  const r = row as Record<string, unknown>;
  for (const key in r) {
    const value = r[key];
    if (typeof value === "bigint") r[key] = narrowInteger(value);
  }
  return row;
}

/** `lastInsertRowid` as the contract wants it: a number when exact, else a bigint. */
export function rowid(value: number | bigint, safeIntegers: boolean): number | bigint {
  if (safeIntegers) return BigInt(value);
  if (typeof value === "bigint" && value <= 9007199254740991n && value >= -9007199254740991n) {
    return Number(value);
  }
  return value;
}
