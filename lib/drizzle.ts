/**
 * [Drizzle ORM](https://orm.drizzle.team) on walpool, through Drizzle's `sqlite-proxy` driver:
 * {@linkcode walpoolProxy} makes the callbacks that `drizzle()` from
 * `"drizzle-orm/sqlite-proxy"` takes. walpool does not depend on Drizzle.
 *
 * Drizzle's own `orm.transaction()` sends `BEGIN` through the callback, which walpool refuses
 * (it runs every write in its own transactions). Run a Drizzle transaction as a walpool
 * transaction instead, with a Drizzle instance on `tx`:
 * `await db.transaction(async (tx) => { const t = drizzle(walpoolProxy(tx)); … })`. There,
 * Drizzle's `transaction()` nests: `t.transaction(async (t2) => …)` runs under a savepoint, and
 * so does `t2.transaction()` inside it.
 *
 * @example
 * ```ts
 * import { drizzle } from "drizzle-orm/sqlite-proxy";
 * import { eq } from "drizzle-orm";
 * import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
 * import { open } from "@walpool/walpool";
 * import { walpoolProxy } from "@walpool/walpool/drizzle";
 *
 * const notes = sqliteTable("notes", { id: integer().primaryKey(), body: text().notNull() });
 *
 * await using db = await open("app.db");
 * await db.exec("CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
 * const proxy = walpoolProxy(db);
 * const orm = drizzle(proxy, proxy.batch);
 * await orm.insert(notes).values({ body: "hello" });
 * const rows = await orm.select().from(notes).where(eq(notes.body, "hello"));
 *
 * await db.transaction(async (tx) => {
 *   const t = drizzle(walpoolProxy(tx));
 *   await t.insert(notes).values({ body: "a" });
 *   await t.insert(notes).values({ body: "b" });
 * });
 * ```
 *
 * @module
 */

import type { Transaction, Value } from "./types.ts";
import { statementInfo } from "./_classify.ts";
import { savepointStatement } from "./transaction.ts";

/**
 * A value walpool binds (its `Value`: booleans as 1/0, any `Uint8Array` as its bytes).
 *
 * @example
 * ```ts
 * import type { BindValue } from "@walpool/walpool/drizzle";
 *
 * const params: BindValue[] = [1, "a", null, new Uint8Array([0])];
 * ```
 */
export type BindValue = Value;

/**
 * What {@linkcode walpoolProxy} runs statements on: a walpool `Database`, or the `tx` of a
 * `db.transaction()` callback (typed by the two methods it uses).
 *
 * @example
 * ```ts
 * import { open } from "@walpool/walpool";
 * import { type DrizzleSource, walpoolProxy } from "@walpool/walpool/drizzle";
 *
 * await using db = await open("app.db");
 * const source: DrizzleSource = db; // or the tx of db.transaction()
 * const proxy = walpoolProxy(source);
 * ```
 */
export interface DrizzleSource {
  /**
   * Runs a statement (walpool's `run()`).
   *
   * @param sql The SQL text.
   * @param params The values of its placeholders.
   * @returns What it changed.
   */
  run(
    sql: string,
    params?: readonly BindValue[],
  ): Promise<{ changes: number; lastInsertRowid: number | bigint }>;
  /**
   * Runs a statement and gives its rows as arrays (walpool's `values()`).
   *
   * @param sql The SQL text.
   * @param params The values of its placeholders.
   * @returns The rows, each an array of values in column order.
   */
  values(sql: string, params?: readonly BindValue[]): Promise<unknown[][]>;
}

/** A walpool `Database`, as far as the batch callback uses it. */
interface DatabaseLike extends DrizzleSource {
  batch(
    statements: readonly { sql: string; params?: readonly BindValue[] }[],
  ): Promise<{ changes: number; lastInsertRowid: number | bigint }[]>;
  transaction<T>(fn: (tx: DrizzleSource) => Promise<T>): Promise<T>;
}

/**
 * How Drizzle wants a statement's result.
 *
 * @example
 * ```ts
 * import { open } from "@walpool/walpool";
 * import { type DrizzleMethod, walpoolProxy } from "@walpool/walpool/drizzle";
 *
 * await using db = await open("app.db");
 * const method: DrizzleMethod = "all";
 * const { rows } = await walpoolProxy(db)("SELECT 1, 2", [], method);
 * ```
 */
export type DrizzleMethod = "run" | "all" | "values" | "get";

/**
 * One statement of a Drizzle batch.
 *
 * @example
 * ```ts
 * import { open } from "@walpool/walpool";
 * import { type DrizzleQuery, walpoolProxy } from "@walpool/walpool/drizzle";
 *
 * await using db = await open("app.db");
 * const queries: DrizzleQuery[] = [{ sql: "SELECT ?", params: [1], method: "get" }];
 * const results = await walpoolProxy(db).batch(queries);
 * ```
 */
export interface DrizzleQuery {
  /** The SQL text, with `?` placeholders. */
  sql: string;
  /** The values of the placeholders. */
  params: unknown[];
  /** How Drizzle wants its result. */
  method: DrizzleMethod;
}

/**
 * What the proxy answers, as Drizzle's sqlite-proxy expects.
 *
 * - `"all"` and `"values"`: `rows` holds every row as an array of values in column order
 *   (same-named columns, as in a join, are all kept).
 * - `"get"`: `rows` is the first row itself (an array of values), or `undefined` when there is
 *   none.
 * - `"run"`: `rows` is empty, and `changes` and `lastInsertRowid` come from walpool (Drizzle
 *   returns this object from `orm.run()` and from inserts, updates and deletes without
 *   `returning()`).
 *
 * @example
 * ```ts
 * import { open } from "@walpool/walpool";
 * import { type DrizzleResult, walpoolProxy } from "@walpool/walpool/drizzle";
 *
 * await using db = await open("app.db");
 * const result: DrizzleResult = await walpoolProxy(db)("SELECT 1", [], "values");
 * ```
 */
export interface DrizzleResult {
  /** The rows (see above; for `"get"`, one row or `undefined`). */
  rows: unknown[];
  /** For `"run"`: rows inserted, updated or deleted. */
  changes?: number;
  /** For `"run"`: rowid of the last inserted row. */
  lastInsertRowid?: number | bigint;
}

/**
 * The callback `drizzle()` from `"drizzle-orm/sqlite-proxy"` takes first, with the batch
 * callback it takes second as its `batch` property.
 *
 * @example
 * ```ts
 * import { drizzle } from "drizzle-orm/sqlite-proxy";
 * import { open } from "@walpool/walpool";
 * import { type WalpoolProxy, walpoolProxy } from "@walpool/walpool/drizzle";
 *
 * await using db = await open("app.db");
 * const proxy: WalpoolProxy = walpoolProxy(db);
 * const orm = drizzle(proxy, proxy.batch);
 * ```
 */
export interface WalpoolProxy {
  /**
   * Runs one statement for Drizzle.
   *
   * @param sql The SQL text.
   * @param params The values of its placeholders.
   * @param method How Drizzle wants the result.
   * @returns The result (see {@linkcode DrizzleResult}).
   */
  (sql: string, params: unknown[], method: DrizzleMethod): Promise<DrizzleResult>;
  /**
   * Runs the statements of `orm.batch([...])` all or nothing: on a database, in one
   * `db.batch()` when none returns rows, else in one transaction; on a transaction, in it.
   *
   * @param queries The statements, in order.
   * @returns One result per statement.
   */
  batch(queries: readonly DrizzleQuery[]): Promise<DrizzleResult[]>;
}

/**
 * Builds the callbacks of Drizzle's sqlite-proxy driver for a walpool database or transaction:
 * `drizzle(proxy, proxy.batch, config?)`. Reads go to the readers; writes (also
 * `insert(…).returning()`) to the writer, with group commit.
 *
 * Rows reach Drizzle as arrays (walpool's `values()`), so joins of tables with same-named
 * columns map correctly.
 *
 * For an atomic group of Drizzle statements, make a Drizzle instance on a walpool transaction:
 * `await db.transaction(async (tx) => { const t = drizzle(walpoolProxy(tx)); … })`. Drizzle's
 * own `orm.transaction()` sends `BEGIN`, `COMMIT` and `SAVEPOINT` through the callback, which
 * walpool refuses: its promise rejects with a `TypeError` saying so, before anything ran.
 *
 * @param source An open walpool database, or the `tx` of a `db.transaction()` callback.
 * @returns The callback, with the batch callback as its `batch` property.
 * @throws {TypeError} `source` is not a walpool database or transaction.
 *
 * @example A database
 * ```ts
 * import { drizzle } from "drizzle-orm/sqlite-proxy";
 * import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
 * import { open } from "@walpool/walpool";
 * import { walpoolProxy } from "@walpool/walpool/drizzle";
 *
 * const users = sqliteTable("users", { id: integer().primaryKey(), name: text().notNull() });
 * const schema = { users };
 *
 * await using db = await open("app.db");
 * await db.exec("CREATE TABLE IF NOT EXISTS users(id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
 * const proxy = walpoolProxy(db);
 * const orm = drizzle(proxy, proxy.batch, { schema });
 * const all = await orm.select().from(schema.users);
 * console.log(all.length);
 * ```
 *
 * @example A transaction
 * ```ts
 * import { drizzle } from "drizzle-orm/sqlite-proxy";
 * import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
 * import { open } from "@walpool/walpool";
 * import { walpoolProxy } from "@walpool/walpool/drizzle";
 *
 * const users = sqliteTable("users", { id: integer().primaryKey(), name: text().notNull() });
 * const posts = sqliteTable("posts", {
 *   id: integer().primaryKey(),
 *   userId: integer("user_id").notNull(),
 *   title: text().notNull(),
 * });
 *
 * await using db = await open("app.db");
 * await db.exec(`
 *   CREATE TABLE IF NOT EXISTS users(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
 *   CREATE TABLE IF NOT EXISTS posts(id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, title TEXT NOT NULL);
 * `);
 * await db.transaction(async (tx) => {
 *   const t = drizzle(walpoolProxy(tx));
 *   const [user] = await t.insert(users).values({ name: "Ada" }).returning();
 *   await t.insert(posts).values({ userId: user.id, title: "Notes" });
 * });
 * ```
 */
export function walpoolProxy(source: DrizzleSource): WalpoolProxy {
  if (typeof source?.run !== "function" || typeof source.values !== "function") {
    throw new TypeError(
      "walpoolProxy needs an open walpool Database or the tx of a db.transaction() callback",
    );
  }
  const db = isDatabase(source) ? source : undefined;
  const nesting = db ? undefined : nestedTransactions(source as Transaction);
  const query = (sql: string, params: unknown[], method: DrizzleMethod) =>
    nesting?.(sql) ?? one(source, !db, sql, params, method);
  const batch = async (queries: readonly DrizzleQuery[]): Promise<DrizzleResult[]> => {
    if (!Array.isArray(queries)) throw new TypeError("batch() takes an array of queries");
    for (const q of queries) refuseControl(q.sql, !db);
    if (db && queries.every((q) => q.method === "run")) {
      const results = await db.batch(
        queries.map((q) => ({ sql: q.sql, params: q.params as BindValue[] })),
      );
      return results.map(ran);
    }
    const each = async (on: DrizzleSource) => {
      const out: DrizzleResult[] = [];
      for (const q of queries) out.push(await one(on, true, q.sql, q.params, q.method));
      return out;
    };
    return db ? db.transaction(each) : each(source);
  };
  return Object.assign(query, { batch });
}

function isDatabase(source: DrizzleSource): source is DatabaseLike {
  return typeof (source as DatabaseLike).transaction === "function" &&
    typeof (source as DatabaseLike).batch === "function";
}

async function one(
  on: DrizzleSource,
  inTransaction: boolean,
  sql: string,
  params: unknown[],
  method: DrizzleMethod,
): Promise<DrizzleResult> {
  refuseControl(sql, inTransaction);
  // Drizzle has mapped the values for the driver; walpool rejects one it cannot bind.
  const p = params as BindValue[];
  switch (method) {
    case "run":
      return ran(await on.run(sql, p));
    case "all":
    case "values":
      return { rows: await on.values(sql, p) };
    case "get":
      // The first row itself; Drizzle maps `undefined` to "no row".
      return { rows: (await on.values(sql, p))[0] as unknown[] };
    default:
      throw new TypeError(`Unknown Drizzle method: ${String(method)}`);
  }
}

function ran(
  { changes, lastInsertRowid }: { changes: number; lastInsertRowid: number | bigint },
): DrizzleResult {
  return { rows: [], changes, lastInsertRowid };
}

/**
 * On a walpool transaction, Drizzle's own transaction statements become savepoints, so that its
 * `transaction()` nests: `begin` … `commit`/`rollback` (an instance made on `tx`) and
 * `savepoint spN`, `release savepoint spN`, `rollback to savepoint spN` (a Drizzle transaction's
 * own `transaction()`). Anything else: `undefined`.
 */
function nestedTransactions(tx: Transaction): (sql: string) => Promise<DrizzleResult> | undefined {
  const open: string[] = []; // the savepoints Drizzle's begins made, innermost last
  let made = 0;
  const done = (p: Promise<void>) => p.then((): DrizzleResult => ({ rows: [] }));
  return (sql) => {
    if (typeof sql !== "string") return undefined;
    const text = sql.trim().replace(/;$/, "").toLowerCase();
    let m: RegExpExecArray | null;
    if (/^begin\b/.test(text)) {
      const name = `drizzle_nested_${++made}`;
      open.push(name);
      return done(savepointStatement(tx, "savepoint", name));
    }
    if (text === "commit" || text === "rollback") {
      const name = open.pop();
      if (!name) return undefined; // refused below, with the reason
      if (text === "commit") return done(savepointStatement(tx, "release", name));
      return done(
        savepointStatement(tx, "rollback", name).then(() =>
          savepointStatement(tx, "release", name)
        ),
      );
    }
    if ((m = /^savepoint (\w+)$/.exec(text))) {
      return done(savepointStatement(tx, "savepoint", m[1]));
    }
    if ((m = /^release savepoint (\w+)$/.exec(text))) {
      return done(savepointStatement(tx, "release", m[1]));
    }
    if ((m = /^rollback to savepoint (\w+)$/.exec(text))) {
      return done(savepointStatement(tx, "rollback", m[1]));
    }
    return undefined;
  };
}

/**
 * Turns walpool's refusal of `BEGIN` & co. into one that says what to do with Drizzle, whose own
 * transaction() sends them through the proxy.
 */
function refuseControl(sql: string, inTransaction: boolean): void {
  if (typeof sql !== "string") return; // walpool itself rejects it with a TypeError
  const keyword = statementInfo(sql).control;
  if (!keyword) return;
  throw new TypeError(
    inTransaction
      ? `${keyword} is not allowed: this Drizzle instance runs in a walpool transaction, where ` +
        "only Drizzle's own transaction() statements (begin, commit, rollback, savepoints) are " +
        "taken, as savepoints"
      : `${keyword} is not allowed: Drizzle's transaction() sends it through the sqlite-proxy ` +
        "callback, and walpool runs every write in its own transactions. Use a walpool " +
        "transaction instead: await db.transaction(async (tx) => { const t = " +
        "drizzle(walpoolProxy(tx)); … })",
  );
}
