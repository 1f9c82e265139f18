/**
 * Tagged templates: ``db.sql`SELECT * FROM notes WHERE id = ${id}` `` binds every value as a
 * parameter (never spliced into the SQL); identifiers go in only through {@linkcode ident}.
 *
 * @module
 */

import type { Params, RunResult, SqlTag, SqlValue, Value } from "./types.ts";
import { isIdentifier } from "./ident.ts";
import { statementInfo } from "./_classify.ts";
import { rejectThrown } from "./errors.ts";

// Defined in types.ts; still exported here for the modules that import it from here.

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
