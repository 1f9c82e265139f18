/**
 * Tagged templates: ``db.sql`SELECT * FROM notes WHERE id = ${id}` `` binds every value as a
 * parameter (never spliced into the SQL); identifiers go in only through {@linkcode ident}.
 *
 * @module
 */

import type { Params, Row, RunResult, Value } from "./database.ts";
import { statementInfo } from "./_classify.ts";
import { rejectThrown } from "./errors.ts";

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
 * A value of a tagged template: bound as a parameter, or an {@linkcode Identifier}.
 *
 * @example
 * ```ts
 * import { ident, open, type SqlValue } from "@walpool/walpool";
 *
 * await using db = await open("app.db");
 * const parts: SqlValue[] = [ident("sqlite_master"), "table"];
 * const rows = await db.sql`SELECT name FROM ${parts[0]} WHERE type = ${parts[1]}`;
 * ```
 */
export type SqlValue = Value | Identifier;

/**
 * The tagged template of a database or transaction. Called as a tag it returns every row
 * (routed like `all`: a read goes to a reader, a statement that writes to the writer); `.get`,
 * `.values` and `.run` (the writer form, returning changes and last rowid) take a template too.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { open } from "@walpool/walpool";
 *
 * await using db = await open("app.db");
 * await db.exec("CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
 * const { lastInsertRowid: id } = await db.sql.run`INSERT INTO notes(body) VALUES (${"x"})`;
 * const notes = await db.sql<{ id: number; body: string }>`SELECT * FROM notes WHERE id >= ${id}`;
 * const note = await db.sql.get<{ body: string }>`SELECT body FROM notes WHERE id = ${id}`;
 * const { changes } = await db.sql.run`UPDATE notes SET body = ${"y"} WHERE id = ${id}`;
 * assert.deepEqual([notes.length, note?.body, changes], [1, "x", 1]);
 * ```
 */
export interface SqlTag {
  /** Every row of the statement. */
  <T = Row>(strings: TemplateStringsArray, ...values: SqlValue[]): Promise<T[]>;
  /** The first row, or `undefined`. */
  get<T = Row>(strings: TemplateStringsArray, ...values: SqlValue[]): Promise<T | undefined>;
  /** Every row as an array of values in column order. */
  values<T extends unknown[] = unknown[]>(
    strings: TemplateStringsArray,
    ...values: SqlValue[]
  ): Promise<T[]>;
  /** Runs the statement through the writer. */
  run(strings: TemplateStringsArray, ...values: SqlValue[]): Promise<RunResult>;
}

/** What a tag calls: a database's or a transaction's methods. */
interface Target {
  all(sql: string, params: Params): Promise<unknown[]>;
  get(sql: string, params: Params): Promise<unknown>;
  values(sql: string, params: Params): Promise<unknown[]>;
  run(sql: string, params: Params): Promise<RunResult>;
}

// SQL text per template (a call site's strings array is the same object every time), for
// templates without identifiers.
const texts = new WeakMap<TemplateStringsArray, string>();

/** Whether `value` is an identifier; one not made by {@linkcode ident} is refused. */
function isIdentifier(value: unknown): value is Identifier {
  if (!(value instanceof Identifier)) return false;
  if (!minted.has(value)) throw new TypeError("Identifiers must be made with ident(), not new");
  return true;
}

/** The SQL text and parameters of a template: `?` for each value, identifiers quoted in. */
function compile(strings: TemplateStringsArray, values: SqlValue[]): [string, Value[]] {
  if (!Array.isArray(strings) || !Array.isArray((strings as { raw?: unknown }).raw)) {
    throw new TypeError("db.sql is a template tag: use it as db.sql`SELECT …`");
  }
  const cached = values.some(isIdentifier) ? undefined : texts.get(strings);
  if (cached !== undefined) return [cached, values as Value[]];
  if (statementInfo(strings.join(" NULL ")).count !== 0) {
    throw new TypeError(
      "A tagged template takes its values as ${…}, not as ?, ?NNN, :name, @name or $name " +
        "written in its text",
    );
  }
  let sql = strings[0];
  const params: Value[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (isIdentifier(v)) {
      sql += v.sql;
    } else {
      sql += "?";
      params.push(v);
    }
    sql += strings[i + 1];
  }
  if (statementInfo(sql).count !== params.length) {
    throw new RangeError(
      "The template's values do not match its parameters: is a value inside quotes or a " +
        "comment? Values are bound, so write ${x}, not '${x}'",
    );
  }
  if (params.length === values.length) texts.set(strings, sql);
  return [sql, params];
}

/** Makes the tag of a database or transaction. */
export function sqlTag(target: Target): SqlTag {
  const tag =
    ((strings: TemplateStringsArray, ...values: SqlValue[]) =>
      rejectThrown(() => target.all(...compile(strings, values)))) as SqlTag;
  tag.get = (strings, ...values) =>
    rejectThrown(() => target.get(...compile(strings, values))) as Promise<never>;
  tag.values = (strings, ...values) =>
    rejectThrown(() => target.values(...compile(strings, values))) as Promise<never>;
  tag.run = (strings, ...values) => rejectThrown(() => target.run(...compile(strings, values)));
  return tag;
}
