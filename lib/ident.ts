/**
 * Identifiers for tagged templates: {@linkcode ident} quotes a table, column or schema name, and
 * only an {@linkcode Identifier} it made goes into a template's SQL unbound.
 *
 * @module
 */

/** Identifiers made by {@linkcode ident}: the only ones a template accepts. */
const minted = new WeakSet<object>();

/**
 * A table or column name for a tagged template, quoted. Make one with {@linkcode ident}; one
 * made with `new` is refused by the templates.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ident, open } from "@walpool/walpool";
 *
 * await using db = await open("app.db");
 * await db.exec("CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
 * const rows = await db.sql<{ n: number }>`SELECT count(*) AS n FROM ${ident("notes")}`;
 * assert.equal(rows.length, 1);
 * ```
 */
export class Identifier {
  /** The quoted name, as it goes into the SQL (`"notes"`, `"main"."notes"`). */
  readonly sql: string;

  /**
   * Use {@linkcode ident}.
   *
   * @param sql The quoted name.
   */
  constructor(sql: string) {
    this.sql = sql;
  }
}

/**
 * Quotes a table, column or schema name for a tagged template: the only way to put a name that
 * is not fixed in the code into a statement. Each part is double-quoted (`"` doubled inside), so
 * any string is a name and never SQL.
 *
 * @param names One name, or a schema and a name (`ident("main", "notes")` → `"main"."notes"`).
 * @returns The identifier, for use inside `` db.sql`…` ``.
 * @throws {TypeError} A name is not a non-empty string, or holds a NUL character.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ident, open } from "@walpool/walpool";
 *
 * await using db = await open("app.db");
 * await db.exec("CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
 * const table = "notes"; // e.g. chosen at run time
 * const [{ n }] = await db.sql<{ n: number }>`SELECT count(*) AS n FROM ${ident(table)}`;
 * assert.equal(typeof n, "number");
 * ```
 */
export function ident(...names: string[]): Identifier {
  if (names.length === 0) throw new TypeError("ident() needs at least one name");
  const id = new Identifier(
    names.map((name) => {
      if (typeof name !== "string" || name === "" || name.includes("\0")) {
        throw new TypeError(`An identifier must be a non-empty string without NUL, got ${name}`);
      }
      return `"${name.replaceAll('"', '""')}"`;
    }).join("."),
  );
  minted.add(id);
  return id;
}

/**
 * Whether `value` is an identifier for a template.
 *
 * @throws {TypeError} It is an {@linkcode Identifier} not made by {@linkcode ident}.
 */
export function isIdentifier(value: unknown): value is Identifier {
  if (!(value instanceof Identifier)) return false;
  if (!minted.has(value)) throw new TypeError("Identifiers must be made with ident(), not new");
  return true;
}
