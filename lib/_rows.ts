// Rows as the contract promises them: plain objects with every column an own property, built the
// same way by every driver that builds its rows itself and by the remote engine.

/**
 * `row[name] = value` as an own property, also for a column named `__proto__` (an assignment
 * would set the row's prototype instead, or drop the value).
 */
export function setColumn(row: Record<string, unknown>, name: string, value: unknown): void {
  if (name === "__proto__") {
    Object.defineProperty(row, name, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else row[name] = value;
}
