// The contract of API.md, checked once per driver, and against libSQL's server (sqld). Each
// *_test.ts file calls `conformance()` with its target. Against a server, what cannot hold there
// is skipped with the reason, and where the contract says a remote database answers differently
// the test asserts that answer.

import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  ClosedError,
  type CommitEvent,
  type Database,
  open,
  type OpenOptions,
  SqliteError,
} from "../mod.ts";
import type { DriverName } from "../lib/driver.ts";
import { existsSync } from "node:fs";
import { runtime, settle, tempPath, within } from "./_helpers.ts";
import { internals } from "../lib/database.ts";

/** Runs `sql` on the first reader worker itself, bypassing walpool's routing. */
function onReader(db: Database, sql: string): Promise<unknown> {
  const reader = internals.get(db)!.readers.workers[0]!;
  return new Promise((resolve, reject) =>
    reader.send({ id: -1, kind: "all", sql, params: [] }, { resolve, reject })
  );
}

/**
 * Counts the messages posted to the writer worker from now on (through the client's `afterPost`
 * hook, which rings the writer's doorbell): the writer commits each message whole, so a burst
 * takes at most that many commits.
 */
function countMessages(db: Database): () => number {
  const client = internals.get(db)!.writer.client;
  const ring = client.afterPost;
  let messages = 0;
  client.afterPost = () => {
    messages++;
    ring?.();
  };
  return () => messages;
}

/**
 * Counts the Hrana batches sent to a server from now on (through `fetch`, until `restore()`): a
 * remote group commit sends each attempt as one batch, one transaction, so a burst takes at most
 * that many commits, as the local writer takes at most one per message.
 */
function countBatches(): { count(): number; restore(): void } {
  const real = globalThis.fetch;
  let batches = 0;
  globalThis.fetch = (input, init) => {
    if (typeof init?.body === "string" && init.body.includes('"type":"batch"')) batches++;
    return real(input, init);
  };
  return { count: () => batches, restore: () => void (globalThis.fetch = real) };
}

/** Opens a transaction that holds the writer; `release()` ends it and resolves when it has. */
async function holdWriter(db: Database): Promise<{ release(): Promise<void> }> {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  let began!: () => void;
  const begun = new Promise<void>((r) => (began = r));
  const done = db.transaction(async () => {
    began();
    await gate;
  });
  await begun;
  return { release: () => (open(), done) };
}

/** A running server over an empty database (`Sqld` is one). */
export interface RemoteServer {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * A libSQL server to check the contract against: `start()` gives a new one, over an empty
 * database, wherever a test asks for a new database.
 */
export interface RemoteTarget {
  name: string;
  start(): Promise<RemoteServer>;
}

/** What the suite runs against: a local driver, or a remote server. */
export type Target = DriverName | RemoteTarget;

export function conformance(target: Target, skip: true | string): void {
  const driver = typeof target === "string" ? target : undefined;
  const remote = typeof target === "string" ? undefined : target;
  const name = remote?.name ?? driver!;
  /** The servers this test started (remote targets), stopped after it. */
  const servers: RemoteServer[] = [];
  /** Where a new, empty database is: a fresh temporary file, or a new server. */
  const place = async (): Promise<string> => {
    if (!remote) return tempPath();
    const server = await remote.start();
    servers.push(server);
    return server.url;
  };
  const opts = (more: OpenOptions = {}): OpenOptions => remote ? { ...more } : { driver, ...more };
  /** Opens the database at `path` (a new, empty one by default): every test opens through it. */
  const openDb = async (more: OpenOptions = {}, path?: string | URL): Promise<Database> =>
    await open(path ?? await place(), opts(more));
  const fresh = async (more: OpenOptions = {}): Promise<Database> => {
    const db = await openDb(more);
    await db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v, u UNIQUE)");
    return db;
  };
  /** Skips a test on a remote target, saying why it cannot hold there. */
  const localOnly = (why: string): { skip: string | false } => ({ skip: remote ? why : false });

  // Databases a test opened, closed after it (Node 22 has no `await using`), and what it patched.
  const opened: Database[] = [];
  const use = (db: Database): Database => (opened.push(db), db);
  const cleanups: (() => void)[] = [];
  /**
   * Counts what the database commits whole from now on: messages to the local writer worker, or
   * batches to the server.
   */
  const countCommitUnits = (db: Database): () => number => {
    if (!remote) return countMessages(db);
    const batches = countBatches();
    cleanups.push(batches.restore);
    return batches.count;
  };

  if (skip !== true) console.log(`# skipping the ${name} contract: ${skip}`);
  describe(`contract on ${name}`, { skip: skip === true ? false : skip }, () => {
    afterEach(async () => {
      for (const restore of cleanups.splice(0)) restore();
      for (const db of opened.splice(0)) await db.close();
      for (const server of servers.splice(0)) await server.stop();
    });

    describe("open()", () => {
      it(
        "creates the file in WAL mode and runs the pragmas it was given",
        localOnly(
          "no file, and no pragmas: a remote database refuses the pragmas option (the server's " +
            "connections are its own) and sqld chooses its journal mode",
        ),
        async () => {
          const db = use(await openDb({ pragmas: { foreign_keys: true, cache_size: -4000 } }));
          assert.deepEqual(await db.get("PRAGMA journal_mode"), { journal_mode: "wal" });
          assert.deepEqual(await db.get("PRAGMA foreign_keys"), { foreign_keys: 1 });
          assert.deepEqual(await db.get("PRAGMA cache_size"), { cache_size: -4000 });
          assert.deepEqual(await db.get("PRAGMA synchronous"), { synchronous: 1 });
          assert.deepEqual(await db.get("PRAGMA busy_timeout"), { timeout: 5000 });
        },
      );

      it(
        'uses synchronous=FULL with durability: "full" and the busyTimeout given',
        localOnly(
          "a remote database refuses the durability option (sqld sets its own synchronous " +
            "mode), and its busyTimeout is how long walpool retries a busy BEGIN, not the " +
            "server connection's busy_timeout pragma",
        ),
        async () => {
          const db = use(await openDb({ durability: "full", busyTimeout: 1234 }));
          assert.deepEqual(await db.get("PRAGMA synchronous"), { synchronous: 2 });
          assert.deepEqual(await db.get("PRAGMA busy_timeout"), { timeout: 1234 });
        },
      );

      it(
        "rejects with SqliteError naming the path when the file cannot be opened",
        localOnly(
          "a remote database has no file path; a server that cannot be reached is a " +
            "RemoteError (tests/remote_test.ts)",
        ),
        async () => {
          const path = "/nonexistent-walpool-dir/sub/x.db";
          await assert.rejects(openDb({}, path), (e: unknown) => {
            assert.ok(e instanceof SqliteError);
            assert.equal(e.code, "SQLITE_CANTOPEN");
            assert.match(e.message, /nonexistent-walpool-dir/);
            return true;
          });
        },
      );

      it(
        "rejects with a clear error, leaving nothing open, when a pragma fails on a reader",
        localOnly(
          "no reader connections and no pragmas remotely: the pragmas option is refused with " +
            "TypeError (checked in the bad-options test)",
        ),
        async () => {
          await assert.rejects(
            openDb({ pragmas: { user_version: 7 } }),
            (e: unknown) => e instanceof SqliteError && /readonly/.test(e.message),
          );
        },
      );

      it(
        remote
          ? "rejects bad options, and those for local connections only, with TypeError or RangeError"
          : "rejects bad options and in-memory paths with TypeError or RangeError",
        async () => {
          // A server's URL is never an in-memory path; and remotely the pragmas and driver
          // options are refused whatever they say, as acting on local connections only.
          if (!remote) await assert.rejects(openDb({}, ":memory:"), TypeError);
          await assert.rejects(openDb({ pragmas: { journal_mode: "delete" } }), {
            name: "TypeError",
            message: remote
              ? /pragmas does not apply to a remote database/
              : /journal_mode is set by walpool/,
          });
          await assert.rejects(openDb({ pragmas: { query_only: false } }), TypeError);
          await assert.rejects(openDb({ transactionTimeout: 2 ** 31 }), RangeError);
          await assert.rejects(openDb({ busyTimeout: 2 ** 40 }), RangeError);
          await assert.rejects(openDb({ readers: -1 }), RangeError);
          await assert.rejects(openDb({ maxBatch: 1.5 }), TypeError);
          await assert.rejects(
            openDb({ driver: "sqlite9" as DriverName }),
            remote ? /driver does not apply to a remote database/ : /Unknown driver "sqlite9"/,
          );
          if (remote) {
            // sqld takes a transaction away after 5 s.
            await assert.rejects(openDb({ transactionTimeout: 5001 }), RangeError);
            for (
              const local of [
                { durability: "full" },
                { routeReads: "inline" },
                { procedures: "./procedures.ts" },
              ] as OpenOptions[]
            ) {
              await assert.rejects(openDb(local), {
                name: "TypeError",
                message: /does not apply to a remote database/,
              });
            }
          }
        },
      );

      it(remote ? "accepts its URL as a URL object" : "accepts a file: URL", async () => {
        const path = await place();
        const db = use(await openDb({}, new URL(remote ? path : `file://${path}`)));
        await db.exec("CREATE TABLE x(a)");
        assert.deepEqual(await db.all("SELECT name FROM sqlite_master"), [{ name: "x" }]);
      });
    });

    describe("run/get/all", () => {
      for (const readers of [0, 2]) {
        it(`reads rows as plain objects (readers: ${readers})`, async () => {
          const db = use(await fresh({ readers }));
          const r = await db.run("INSERT INTO t(v) VALUES (?)", ["a"]);
          assert.deepEqual(r, { changes: 1, lastInsertRowid: 1 });
          await db.run("INSERT INTO t(v) VALUES (?)", ["b"]);
          const row = await db.get("SELECT id, v FROM t WHERE id = ?", [1]);
          assert.deepEqual(row, { id: 1, v: "a" });
          assert.equal(Object.getPrototypeOf(row), Object.prototype);
          assert.deepEqual(await db.all("SELECT v FROM t ORDER BY id"), [{ v: "a" }, { v: "b" }]);
          assert.equal(await db.get("SELECT * FROM t WHERE id = 99"), undefined);
          assert.deepEqual(await db.all("SELECT * FROM t WHERE id = 99"), []);
          // Remotely, `readers` is how many read requests may be in flight, at least one.
          assert.equal(db.stats().readers, remote ? Math.max(1, readers) : readers);
        });

        it(`values() returns rows as arrays, keeping same-named columns (readers: ${readers})`, async () => {
          const db = use(await fresh({ readers }));
          await db.run("INSERT INTO t(v) VALUES (?)", ["a"]);
          await db.run("INSERT INTO t(v) VALUES (?)", ["b"]);
          assert.deepEqual(
            await db.values("SELECT a.id, b.id, a.v FROM t a JOIN t b ON b.id = a.id + 1"),
            [[1, 2, "a"]],
          );
          assert.deepEqual(await db.values("SELECT * FROM t WHERE id = 99"), []);
          assert.deepEqual(await db.values("INSERT INTO t(v) VALUES ('c') RETURNING id, v"), [
            [3, "c"],
          ]);
          const inTx = await db.transaction(async (tx) => {
            await tx.run("INSERT INTO t(v) VALUES ('d')");
            return tx.values("SELECT count(*), max(id) FROM t");
          });
          assert.deepEqual(inTx, [[4, 4]]);
          await db.run("INSERT INTO t(id, v) VALUES (5, ?)", [2n ** 60n]);
          await assert.rejects(db.values("SELECT v FROM t WHERE id = 5"), RangeError);
        });
      }

      for (const readers of [0, 2]) {
        it(`reads a column renamed by another connection under its new name (readers: ${readers})`, async () => {
          const path = await place();
          const db = use(await openDb({ readers }, path));
          await db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v)");
          await db.run("INSERT INTO t(v) VALUES ('a')");
          const routes = [undefined, "inline", "workers"] as const;
          const read = (sql: string) =>
            Promise.all(routes.map((route) => db.get(sql, [], { route })));
          // Prepared and cached everywhere first (each statement read several times).
          for (let i = 0; i < 20; i++) {
            assert.deepEqual(await read("SELECT * FROM t"), routes.map(() => ({ id: 1, v: "a" })));
            assert.deepEqual(await read("SELECT v FROM t"), routes.map(() => ({ v: "a" })));
          }
          const other = use(await openDb({ readers: 0 }, path));
          // The same number of columns, a name that differs only in case: SQLite names a bare
          // column by its declaration, so `SELECT v` now reads a column called V.
          await other.exec("ALTER TABLE t RENAME COLUMN v TO V");
          for (let i = 0; i < 3; i++) {
            assert.deepEqual(await read("SELECT * FROM t"), routes.map(() => ({ id: 1, V: "a" })));
            assert.deepEqual(await read("SELECT v FROM t"), routes.map(() => ({ V: "a" })));
          }
          await other.exec("ALTER TABLE t ADD COLUMN w DEFAULT 7");
          assert.deepEqual(
            await read("SELECT * FROM t"),
            routes.map(() => ({ id: 1, V: "a", w: 7 })),
          );
        });
      }

      it("reads a column named __proto__ as an own property of a plain object", async () => {
        const db = use(await fresh());
        for (const route of [undefined, "inline", "workers"] as const) {
          const row = await db.get<Record<string, unknown>>(
            `SELECT 1 AS "__proto__", 2 AS x`,
            [],
            { route },
          );
          assert.equal(Object.getPrototypeOf(row), Object.prototype);
          assert.deepEqual(Object.entries(row!), [["__proto__", 1], ["x", 2]]);
        }
      });

      it("sends INSERT … RETURNING through get/all to the writer", async () => {
        const db = use(await fresh());
        assert.deepEqual(await db.get("INSERT INTO t(v) VALUES ('x') RETURNING id, v"), {
          id: 1,
          v: "x",
        });
        assert.deepEqual(await db.all("INSERT INTO t(v) VALUES ('y'), ('z') RETURNING id"), [
          { id: 2 },
          { id: 3 },
        ]);
        assert.deepEqual(
          await db.all("WITH n(x) AS (VALUES (1)) UPDATE t SET v = 'w' WHERE id = 1 RETURNING v"),
          [{ v: "w" }],
        );
        assert.equal((await db.get<{ n: number }>("SELECT count(*) AS n FROM t"))?.n, 3);
      });

      it("reads a WITH … SELECT on a reader even when it calls replace() or quotes a keyword", async () => {
        const db = use(await fresh({ readers: 1 }));
        await db.run("INSERT INTO t(v) VALUES ('a-b')");
        const before = db.stats();
        assert.deepEqual(
          await db.all("WITH x AS (SELECT v FROM t) SELECT replace(v, '-', ' ') AS r FROM x"),
          [{ r: "a b" }],
        );
        assert.deepEqual(
          await db.all("WITH x AS (SELECT 'delete me' AS w /* update */) SELECT w FROM x"),
          [{ w: "delete me" }],
        );
        const after = db.stats();
        assert.equal(after.reads - before.reads, 2, "both went to the reader");
        assert.equal(after.committedRequests, before.committedRequests);
      });

      it("EXPLAIN gives rows and leaves nothing in progress: commits and later reads go on", async () => {
        for (const readers of [0, 1]) {
          const db = use(await fresh({ readers }));
          await db.run("INSERT INTO t(v) VALUES ('a')");
          // On the writer (with a write), in a transaction, and on a reader.
          const plans = [
            await db.all("EXPLAIN QUERY PLAN UPDATE t SET v = 'b' WHERE id = 1"),
            await db.transaction((tx) => tx.all("EXPLAIN QUERY PLAN SELECT * FROM t")),
            await db.all("EXPLAIN QUERY PLAN SELECT * FROM t WHERE id = 1"),
          ];
          for (const plan of plans) assert.ok(plan.length >= 1, `readers: ${readers}`);
          await db.run("INSERT INTO t(v) VALUES ('c')");
          assert.deepEqual(await db.values("SELECT v FROM t ORDER BY id"), [["a"], ["c"]]);
        }
      });

      it("binds named parameters with bare keys for :name, $name and @name", async () => {
        const db = use(await fresh());
        await db.run("INSERT INTO t(id, v) VALUES (:id, :v)", { id: 1, v: "colon" });
        await db.run("INSERT INTO t(id, v) VALUES ($id, $v)", { id: 2, v: "dollar" });
        await db.run("INSERT INTO t(id, v) VALUES (@id, @v)", { id: 3, v: "at" });
        assert.deepEqual(await db.get("SELECT v FROM t WHERE id = $id", { id: 2 }), {
          v: "dollar",
        });
        assert.deepEqual(await db.all("SELECT v FROM t ORDER BY id"), [
          { v: "colon" },
          { v: "dollar" },
          { v: "at" },
        ]);
      });

      it("refuses a missing named parameter or a wrong count alike, ignoring extra keys", async () => {
        const db = use(await fresh());
        await assert.rejects(db.run("INSERT INTO t(id, v) VALUES (:id, :v)", { id: 1 }), {
          name: "RangeError",
          message: /Missing named parameter "v"/,
        });
        await assert.rejects(db.run("INSERT INTO t(id, v) VALUES (?, ?)", [1]), RangeError);
        await assert.rejects(db.run("INSERT INTO t(id, v) VALUES (?, ?)", [1, 2, 3]), RangeError);
        await assert.rejects(db.run("INSERT INTO t(id, v) VALUES (?, ?)"), RangeError);
        await assert.rejects(db.get("SELECT * FROM t WHERE id = ?", { id: 1 }), RangeError);
        await db.run("INSERT INTO t(id, v) VALUES (:id, :v)", { id: 1, v: "x", extra: 9 });
        await db.run("INSERT INTO t(id, v) VALUES (?2, ?1)", ["y", 2]);
        await db.run("INSERT INTO t(id, v) VALUES (3, '?:not $a @param')");
        assert.deepEqual(await db.all("SELECT id, v FROM t ORDER BY id"), [
          { id: 1, v: "x" },
          { id: 2, v: "y" },
          { id: 3, v: "?:not $a @param" },
        ]);
      });

      it("binds integers at ±2^53 and ±2^63 exactly, as number or bigint, or refuses them", async () => {
        const db = use(await fresh({ safeIntegers: true }));
        const exact = [
          2n ** 53n,
          -(2n ** 53n),
          2n ** 53n + 1n,
          2n ** 63n - 1n,
          -(2n ** 63n),
        ];
        for (const [i, v] of exact.entries()) {
          await db.run("INSERT INTO t(id, v) VALUES (?, ?)", [i, v]);
        }
        await db.run("INSERT INTO t(id, v) VALUES (?, ?)", [10, 2 ** 53]);
        await db.run("INSERT INTO t(id, v) VALUES (?, ?)", [11, -(2 ** 62)]);
        await db.run("INSERT INTO t(id, v) VALUES (?, ?)", [12, -0]);
        const rows = await db.all<{ v: bigint; t: string }>(
          "SELECT v, typeof(v) AS t FROM t ORDER BY id",
        );
        // (Exact values; their JS type with safeIntegers is checked by the test above.)
        assert.deepEqual(rows.map((r) => BigInt(r.v)), [...exact, 2n ** 53n, -(2n ** 62n), 0n]);
        assert.ok(rows.every((r) => r.t === "integer"));
        for (const bad of [2 ** 63, -(2 ** 64), 1e20, 2n ** 63n, -(2n ** 63n) - 1n]) {
          await assert.rejects(db.run("INSERT INTO t(v) VALUES (?)", [bad]), RangeError);
        }
      });

      it("returns a lastInsertRowid beyond 2^53 exactly, as a bigint", async () => {
        const db = use(await fresh());
        const big = 2n ** 60n + 1n;
        assert.deepEqual(await db.run("INSERT INTO t(id) VALUES (?)", [big]), {
          changes: 1,
          lastInsertRowid: big,
        });
        const [r] = await db.batch([{ sql: "INSERT INTO t(v) VALUES ('next')" }]);
        assert.equal(r.lastInsertRowid, big + 1n);
        assert.equal(
          await db.transaction((tx) => tx.run("INSERT INTO t(v) VALUES (1)")).then((r) =>
            r.lastInsertRowid
          ),
          big + 2n,
        );
      });

      it("refuses a detached buffer with TypeError, for that call alone", async () => {
        const db = use(await fresh());
        const buffer = new ArrayBuffer(8);
        const view = new Uint8Array(buffer);
        structuredClone(buffer, { transfer: [buffer] });
        const results = await Promise.allSettled([
          db.run("INSERT INTO t(v) VALUES (1)"),
          db.run("INSERT INTO t(v) VALUES (?)", [view]),
          db.get("SELECT count(*) AS n FROM t"),
          db.run("INSERT INTO t(v) VALUES (2)"),
        ]);
        assert.deepEqual(results.map((r) => r.status), [
          "fulfilled",
          "rejected",
          "fulfilled",
          "fulfilled",
        ]);
        assert.ok((results[1] as PromiseRejectedResult).reason instanceof TypeError);
        assert.equal((await db.get<{ n: number }>("SELECT count(*) AS n FROM t"))?.n, 2);
      });

      it("binds the values a call was given, even if the caller reuses its array", async () => {
        const db = use(await fresh());
        const params: [number, string] = [1, "first"];
        const calls = [db.run("INSERT INTO t(id, v) VALUES (?, ?)", params)];
        params[0] = 2;
        params[1] = "second";
        const blob = new Uint8Array([1, 2, 3]);
        calls.push(db.run("INSERT INTO t(id, v) VALUES (3, ?)", [blob]));
        blob[0] = 9;
        calls.push(db.run("INSERT INTO t(id, v) VALUES (?, ?)", params));
        await Promise.all(calls);
        assert.deepEqual(await db.all("SELECT id, v FROM t ORDER BY id"), [
          { id: 1, v: "first" },
          { id: 2, v: "second" },
          { id: 3, v: new Uint8Array([1, 2, 3]) },
        ]);
      });

      it("binds integer-valued numbers as INTEGER and others as REAL", async () => {
        const db = use(await fresh());
        assert.deepEqual(
          await db.get("SELECT typeof(?) AS a, typeof(?) AS b, ? / 2 AS c, typeof(?) AS d", [
            5,
            -0,
            5,
            2.5,
          ]),
          { a: "integer", b: "integer", c: 2, d: "real" },
        );
      });

      it("binds booleans as 1/0 and null as NULL", async () => {
        const db = use(await fresh());
        await db.run("INSERT INTO t(id, v, u) VALUES (?, ?, ?)", [1, true, null]);
        await db.run("INSERT INTO t(id, v) VALUES (?, ?)", [2, false]);
        assert.deepEqual(await db.all("SELECT v, u FROM t ORDER BY id"), [{ v: 1, u: null }, {
          v: 0,
          u: null,
        }]);
      });

      it("keeps blobs byte-exact, views included, without detaching the caller's buffer", async () => {
        const db = use(await fresh());
        const backing = new Uint8Array([9, 9, 1, 2, 3, 9, 9]);
        const view = backing.subarray(2, 5);
        await db.run("INSERT INTO t(id, v) VALUES (1, ?)", [view]);
        await db.run("INSERT INTO t(id, v) VALUES (2, ?)", [new Uint8Array(0)]);
        const big = new Uint8Array(1 << 20).map((_, i) => i % 251);
        await db.run("INSERT INTO t(id, v) VALUES (3, ?)", [big]);
        assert.equal(backing.byteLength, 7);
        assert.equal(view.byteLength, 3);
        const rows = await db.all<{ v: Uint8Array }>("SELECT v FROM t ORDER BY id");
        assert.ok(rows[0].v instanceof Uint8Array);
        assert.deepEqual([...rows[0].v], [1, 2, 3]);
        assert.equal(rows[1].v.byteLength, 0);
        assert.deepEqual(rows[2].v, big);
        assert.deepEqual(
          await db.get("SELECT length(v) AS n, typeof(v) AS t FROM t WHERE id = 1"),
          { n: 3, t: "blob" },
        );
      });

      it("returns every INTEGER as bigint with safeIntegers, REAL as number", {
        skip: driver === "@db/sqlite"
          ? "@db/sqlite reads integers within ±2^53 as numbers even with int64 (documented)"
          : false,
      }, async () => {
        const db = use(await fresh({ safeIntegers: true }));
        const r = await db.run("INSERT INTO t(id, v) VALUES (1, 5)");
        assert.deepEqual(r, { changes: 1, lastInsertRowid: 1n });
        assert.deepEqual(await db.get("SELECT id, v, 2.5 AS f FROM t"), { id: 1n, v: 5n, f: 2.5 });
      });

      it("returns integers beyond 2^53 as exact bigint with safeIntegers, else RangeError", async () => {
        const big = 9007199254740993n;
        {
          const db = use(await fresh({ safeIntegers: true }));
          await db.run("INSERT INTO t(id, v) VALUES (1, ?)", [big]);
          await db.run("INSERT INTO t(id, v) VALUES (2, ?)", [9223372036854775807n]);
          const rows = await db.all<{ v: bigint }>("SELECT v FROM t ORDER BY id");
          assert.equal(rows[0].v, big);
          assert.equal(rows[1].v, 9223372036854775807n);
          assert.deepEqual(await db.values("SELECT v FROM t ORDER BY id"), [
            [big],
            [9223372036854775807n],
          ]);
        }
        {
          const db = use(await fresh());
          await db.run("INSERT INTO t(id, v) VALUES (1, ?)", [big]);
          await db.run("INSERT INTO t(id, v) VALUES (2, ?)", [42]);
          await assert.rejects(db.get("SELECT v FROM t WHERE id = 1"), RangeError);
          assert.deepEqual(await db.get("SELECT v FROM t WHERE id = 2"), { v: 42 });
          await assert.rejects(db.run("INSERT INTO t(v) VALUES (?)", [2n ** 64n]), RangeError);
          // Wherever the read runs: this thread's connections (the one that writes too, between
          // transactions), a transaction's, a reader's.
          for (const route of ["inline", "workers"] as const) {
            await assert.rejects(db.get("SELECT v FROM t WHERE id = 1", [], { route }), RangeError);
            assert.deepEqual(await db.get("SELECT v FROM t WHERE id = 2", [], { route }), {
              v: 42,
            });
          }
          await assert.rejects(
            db.transaction((tx) => tx.get("SELECT v FROM t WHERE id = 1")),
            RangeError,
          );
          assert.deepEqual(
            await db.transaction((tx) => tx.all("SELECT v FROM t WHERE id = 2")),
            [{ v: 42 }],
          );
        }
      });
    });

    describe("security defaults", () => {
      it(
        "opens readers read-only and query-only: a write sent to a reader is refused",
        localOnly(
          "no reader connections remotely: a read is a request to the server, which runs it on " +
            "a connection of its own",
        ),
        async () => {
          const db = use(await fresh({ readers: 1 }));
          // SELECT goes to a reader; this one calls no writing function, so probe the connection.
          assert.deepEqual(await db.get("SELECT 1 AS x"), { x: 1 });
          const answer = await onReader(db, "INSERT INTO t(v) VALUES (1)").catch((e) => e);
          assert.ok(answer instanceof SqliteError);
          assert.match(answer.code, /^SQLITE_READONLY/);
          assert.deepEqual(await db.all("SELECT * FROM t"), []);
        },
      );

      it(
        "keeps trusted_schema off on every connection",
        localOnly(
          "the server's connections are its own: walpool sets no pragma on them (the pragmas " +
            "option is refused remotely) and has no reader connections to probe; sqld 0.24 " +
            "runs with SQLite's default, trusted_schema=1",
        ),
        async () => {
          const db = use(await fresh({ readers: 1 }));
          assert.deepEqual(await db.get("PRAGMA trusted_schema"), { trusted_schema: 0 });
          assert.deepEqual(await onReader(db, "PRAGMA trusted_schema"), [{ trusted_schema: 0 }]);
          assert.deepEqual(await onReader(db, "PRAGMA query_only"), [{ query_only: 1 }]);
        },
      );

      it("refuses direct writes to the schema (defensive mode)", {
        skip: driver === "@db/sqlite"
          ? "@db/sqlite cannot set defensive mode"
          : driver === "node:sqlite" && runtime === "node"
          ? "Node 22's node:sqlite cannot set defensive mode"
          : false,
      }, async () => {
        const db = use(await fresh());
        // (sqld refuses PRAGMA writable_schema as an unsupported statement.)
        await assert.rejects(
          db.exec("PRAGMA writable_schema = ON; UPDATE sqlite_schema SET sql = sql"),
          SqliteError,
        );
      });
    });

    describe("exec/batch", () => {
      it("exec applies several statements atomically", async () => {
        const db = use(await fresh());
        await db.exec("INSERT INTO t(id, v) VALUES (1, 'a'); INSERT INTO t(id, v) VALUES (2, 'b')");
        await assert.rejects(
          db.exec("INSERT INTO t(id, v) VALUES (3, 'c'); INSERT INTO t(id, v) VALUES (1, 'dup')"),
          (e: unknown) => e instanceof SqliteError && e.code.startsWith("SQLITE_CONSTRAINT"),
        );
        assert.deepEqual(await db.all("SELECT id FROM t ORDER BY id"), [{ id: 1 }, { id: 2 }]);
      });

      it("batch is all or nothing and returns one result per statement", async () => {
        const db = use(await fresh());
        const results = await db.batch([
          { sql: "INSERT INTO t(v) VALUES (?)", params: ["a"] },
          { sql: "INSERT INTO t(v) VALUES (:v)", params: { v: "b" } },
          { sql: "UPDATE t SET v = 'c'" },
        ]);
        assert.deepEqual(results, [
          { changes: 1, lastInsertRowid: 1 },
          { changes: 1, lastInsertRowid: 2 },
          // sqld reports no rowid for a statement that inserted nothing: walpool gives 0 then
          // (lib/_hrana.ts, resultOf), where the local connection repeats its last insert's.
          { changes: 2, lastInsertRowid: remote ? 0 : 2 },
        ]);
        await assert.rejects(
          db.batch([
            { sql: "INSERT INTO t(id, v) VALUES (10, 'x')" },
            { sql: "INSERT INTO t(id, v) VALUES (1, 'dup')" },
          ]),
          SqliteError,
        );
        assert.equal(await db.get("SELECT * FROM t WHERE id = 10"), undefined);
      });
    });

    describe("group commit, order and failures", () => {
      it("commits a burst of concurrent writes in few transactions, each resolved after commit", async () => {
        const db = use(await fresh());
        const before = db.stats();
        const messages = countCommitUnits(db);
        const committedWhenResolved: number[] = [];
        const results = await Promise.all(
          Array.from(
            { length: 500 },
            (_, i) =>
              db.run("INSERT INTO t(v) VALUES (?)", [i]).then((r) => {
                committedWhenResolved[i] = db.stats().committedRequests - before.committedRequests;
                return r;
              }),
          ),
        );
        const stats = db.stats();
        const commits = stats.commits - before.commits;
        assert.equal(stats.committedRequests - before.committedRequests, 500);
        // The burst goes in a few messages, a chunk of requests each (not one per request), and
        // the writer commits each message whole, with whatever else waits (maxBatch is 1000).
        assert.ok(messages() <= 500 / 50, `500 writes went in ${messages()} messages`);
        assert.ok(
          commits >= 1 && commits <= messages(),
          `500 writes in ${messages()} messages took ${commits} commits`,
        );
        assert.ok(stats.largestCommit >= 500 / commits);
        // Each call resolved once the commit that carried it was reported, not before.
        for (const [i, n] of committedWhenResolved.entries()) {
          assert.ok(n >= i + 1, `call ${i} resolved when ${n} requests were committed`);
        }
        assert.deepEqual(results.map((r) => r.lastInsertRowid), results.map((_, i) => i + 1));
        assert.equal((await db.get<{ n: number }>("SELECT count(*) AS n FROM t"))?.n, 500);
      });

      it("applies writes in call order across maxBatch and maxQueue limits", async () => {
        const db = use(await fresh({ maxBatch: 3, maxQueue: 5 }));
        const calls: Promise<unknown>[] = [];
        for (let i = 0; i < 200; i++) {
          calls.push(
            i % 7 === 0
              ? db.batch([{ sql: "INSERT INTO t(v) VALUES (?)", params: [i] }])
              : i % 11 === 0
              ? db.exec(`INSERT INTO t(v) VALUES (${i})`)
              : db.run("INSERT INTO t(v) VALUES (?)", [i]),
          );
        }
        assert.ok(db.stats().queued > 0, "backpressure holds calls beyond maxQueue");
        await Promise.all(calls);
        const rows = await db.all<{ v: number }>("SELECT v FROM t ORDER BY id");
        assert.deepEqual(rows.map((r) => r.v), Array.from({ length: 200 }, (_, i) => i));
        assert.ok(db.stats().largestCommit <= 3);
      });

      it("lets every later read see a write once run() resolved", async () => {
        const db = use(await fresh({ readers: 3 }));
        for (let i = 1; i <= 60; i++) {
          await db.run("INSERT INTO t(id, v) VALUES (?, ?)", [i, i]);
          const row = await db.get<{ n: number }>("SELECT count(*) AS n FROM t");
          assert.equal(row?.n, i);
        }
      });

      it("fails one bad request in a burst of hundreds alone", async () => {
        const db = use(await fresh());
        await db.run("INSERT INTO t(id, u) VALUES (0, 'taken')");
        const calls = Array.from(
          { length: 400 },
          (_, i) =>
            db.run("INSERT INTO t(id, u) VALUES (?, ?)", [i + 1, i === 200 ? "taken" : `u${i}`]),
        );
        const { values, errors } = await settle(calls);
        assert.equal(values.length, 399);
        assert.equal(errors.length, 1);
        assert.ok(errors[0] instanceof SqliteError);
        assert.equal((errors[0] as SqliteError).code, "SQLITE_CONSTRAINT_UNIQUE");
        assert.equal((errors[0] as SqliteError).errcode, 2067);
        assert.equal((await db.get<{ n: number }>("SELECT count(*) AS n FROM t"))?.n, 400);
        assert.equal(await db.get("SELECT * FROM t WHERE id = 201"), undefined);
      });

      it("keeps what a failing OR FAIL statement wrote before it failed, alone or in a group", async () => {
        const db = use(await fresh());
        // As SQLite does in autocommit: rows written before the failure stay.
        await assert.rejects(db.run("INSERT OR FAIL INTO t(id) VALUES (1), (2), (1)"), SqliteError);
        assert.deepEqual(await db.values("SELECT id FROM t ORDER BY id"), [[1], [2]]);
        const { errors } = await settle([
          db.run("INSERT OR FAIL INTO t(id) VALUES (3), (1)"),
          db.run("INSERT OR FAIL INTO t(id) VALUES (4), (2)"),
        ]);
        assert.equal(errors.length, 2);
        assert.deepEqual(await db.values("SELECT id FROM t ORDER BY id"), [[1], [2], [3], [4]]);
      });

      it("replays the neighbours when a trigger's RAISE(ROLLBACK) undoes the whole commit", async () => {
        const db = use(await fresh());
        await db.exec(`CREATE TRIGGER no_bad BEFORE INSERT ON t WHEN NEW.v = 'bad'
          BEGIN SELECT RAISE(ROLLBACK, 'bad row'); END`);
        const calls = Array.from(
          { length: 300 },
          (_, i) =>
            db.run("INSERT INTO t(id, v) VALUES (?, ?)", [i + 1, i % 100 === 50 ? "bad" : "ok"]),
        );
        const results = await Promise.allSettled(calls);
        const done = results.flatMap((r, i) => r.status === "fulfilled" ? [i + 1] : []);
        const failed = results.flatMap((r) => r.status === "rejected" ? [r.reason] : []);
        assert.equal(failed.length, 3);
        for (const e of failed) assert.match(e.message, /bad row/);
        const rows = await db.all<{ id: number }>("SELECT id FROM t ORDER BY id");
        assert.deepEqual(rows.map((r) => r.id), done);
        assert.equal(done.length, 297);
      });

      it("replays the neighbours after an ON CONFLICT ROLLBACK", async () => {
        const db = use(await fresh());
        await db.run("INSERT INTO t(id, u) VALUES (1000, 'x')");
        const calls = [
          db.run("INSERT INTO t(id) VALUES (1)"),
          db.run("INSERT OR ROLLBACK INTO t(id, u) VALUES (2, 'x')"),
          db.run("INSERT INTO t(id) VALUES (3)"),
        ];
        const results = await Promise.allSettled(calls);
        assert.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
        assert.deepEqual(await db.all("SELECT id FROM t ORDER BY id"), [{ id: 1 }, { id: 3 }, {
          id: 1000,
        }]);
      });
    });

    describe("errors", () => {
      it("rejects an unbindable parameter with TypeError for that call alone", async () => {
        const db = use(await fresh());
        const calls = [
          db.run("INSERT INTO t(v) VALUES (?)", [1]),
          db.run("INSERT INTO t(v) VALUES (?)", [(() => 1) as never]),
          db.run("INSERT INTO t(v) VALUES (?)", [Symbol("s") as never]),
          db.run("INSERT INTO t(v) VALUES (?)", [undefined as never]),
          db.run("INSERT INTO t(v) VALUES (?)", [{ a: 1 } as never]),
          db.get("SELECT ?", [new Date() as never]),
          db.run("INSERT INTO t(v) VALUES (?)", "not params" as never),
          db.run("INSERT INTO t(v) VALUES (?)", [2]),
        ];
        const results = await Promise.allSettled(calls);
        assert.deepEqual(results.map((r) => r.status), [
          "fulfilled",
          "rejected",
          "rejected",
          "rejected",
          "rejected",
          "rejected",
          "rejected",
          "fulfilled",
        ]);
        for (const r of results.slice(1, 7)) {
          assert.ok((r as PromiseRejectedResult).reason instanceof TypeError);
        }
        assert.match(
          (results[1] as PromiseRejectedResult).reason.message,
          /parameter 1: a function/,
        );
        assert.deepEqual(await db.all("SELECT v FROM t ORDER BY id"), [{ v: 1 }, { v: 2 }]);
      });

      it("refuses transaction control statements with TypeError before they run", async () => {
        const db = use(await fresh());
        await assert.rejects(db.run("BEGIN"), TypeError);
        await assert.rejects(db.run("  commit"), TypeError);
        await assert.rejects(
          db.exec("INSERT INTO t(v) VALUES (1); COMMIT; INSERT INTO t(v) VALUES (2)"),
          {
            name: "TypeError",
            message: /COMMIT is not allowed here/,
          },
        );
        await assert.rejects(db.batch([{ sql: "SAVEPOINT x" }]), TypeError);
        await assert.rejects(db.transaction((tx) => tx.exec("ROLLBACK")), TypeError);
        // The words inside literals and identifiers are fine.
        await db.run("INSERT INTO t(v) VALUES ('x; COMMIT')");
        // (sqld's parser refuses CREATE TEMP TRIGGER as an unsupported statement: remotely the
        // second trigger is a plain one, its body the same.)
        const temp = remote ? "" : "TEMP ";
        await db.exec(`INSERT INTO t(v) VALUES ('a'); -- then COMMIT
          INSERT INTO t("v") VALUES ('b');
          CREATE TRIGGER tr AFTER DELETE ON t BEGIN SELECT 1; SELECT 2; END;
          CREATE ${temp}TRIGGER tr2 AFTER DELETE ON t BEGIN SELECT CASE WHEN 1 THEN 2 END; END`);
        await assert.rejects(
          db.exec("CREATE TRIGGER tr3 AFTER DELETE ON t BEGIN SELECT 1; END; COMMIT"),
          TypeError,
        );
        assert.deepEqual(await db.all("SELECT v FROM t ORDER BY id"), [
          { v: "x; COMMIT" },
          { v: "a" },
          { v: "b" },
        ]);
      });

      it("rejects SQL errors with SqliteError code and errcode, on readers too", async () => {
        const db = use(await fresh());
        await assert.rejects(db.get("SELECT * FROM missing"), (e: unknown) => {
          assert.ok(e instanceof SqliteError);
          assert.equal(e.code, "SQLITE_ERROR");
          assert.equal(e.errcode, 1);
          assert.match(e.message, /no such table: missing/);
          return true;
        });
        // sqld sends the primary code only; walpool takes the extended one from the message,
        // which is the same for a rowid alias as for UNIQUE (lib/_sqlite_codes.ts).
        await assert.rejects(
          db.run("INSERT INTO t(id, v) VALUES (1, 1), (1, 2)"),
          remote
            ? {
              name: "SqliteError",
              code: "SQLITE_CONSTRAINT_UNIQUE",
              message: /UNIQUE constraint failed: t\.id/,
            }
            : { name: "SqliteError", code: "SQLITE_CONSTRAINT_PRIMARYKEY" },
        );
      });

      it("rejects every call after close() with ClosedError; close() is idempotent", async () => {
        const db = await fresh();
        await db.close();
        await db.close();
        for (
          const call of [
            () => db.run("INSERT INTO t(v) VALUES (1)"),
            () => db.get("SELECT 1"),
            () => db.all("SELECT 1"),
            () => db.exec("SELECT 1"),
            () => db.batch([]),
            () => db.transaction(() => 1),
          ]
        ) {
          await assert.rejects(call(), ClosedError);
        }
      });
    });

    describe("stats()", () => {
      it("counts commits, requests, failures, reads and transactions", async () => {
        const events: CommitEvent[] = [];
        const db = use(await fresh({ readers: 1, onCommit: (e) => events.push(e) }));
        const base = db.stats();
        const messages = countCommitUnits(db);
        await Promise.all(
          Array.from({ length: 100 }, (_, i) => db.run("INSERT INTO t(v) VALUES (?)", [i])),
        );
        const burst = messages();
        await db.run("INSERT INTO t(id) VALUES (1)").catch(() => {});
        await db.get("SELECT 1");
        await db.all("SELECT 1");
        await db.transaction(() => {});
        const s = db.stats();
        assert.equal(Object.getPrototypeOf(s), Object.prototype);
        assert.equal(s.committedRequests - base.committedRequests, 100);
        // The 100 inserts take at most one commit per message they went in; the failed insert,
        // alone in its group, commits nothing and is not counted as a commit.
        const commits = s.commits - base.commits;
        assert.ok(commits >= 1 && commits <= burst, `${commits} commits for ${burst} messages`);
        // The same commits as onCommit reported them, one event per group (CREATE TABLE's too).
        const groups = events.filter((e) => e.kind === "group");
        const sum = (k: "commits" | "requests") => groups.reduce((n, e) => n + e[k], 0);
        assert.equal(sum("commits"), s.commits);
        assert.equal(sum("requests"), s.committedRequests);
        assert.equal(s.committedRequests, 101);
        assert.equal(s.requestsPerCommit, 101 / s.commits);
        assert.equal(s.failures - base.failures, 1);
        assert.equal(s.reads - base.reads, 2);
        assert.equal(s.transactions, 1);
        assert.equal(s.readers, 1);
        assert.equal(s.queued, 0);
        assert.equal(s.inFlight, 0);
        assert.equal(s.readsInFlight, 0);
        assert.equal(s.workerRestarts, 0);
      });
    });

    describe("transaction()", () => {
      it("commits when fn resolves and its reads see its own writes", async () => {
        const db = use(await fresh());
        const n = await db.transaction(async (tx) => {
          await tx.run("INSERT INTO t(v) VALUES (?)", ["a"]);
          await tx.exec("INSERT INTO t(v) VALUES ('b'); INSERT INTO t(v) VALUES ('c')");
          const rows = await tx.all<{ v: string }>("SELECT v FROM t");
          assert.equal(rows.length, 3);
          return (await tx.get<{ n: number }>("SELECT count(*) AS n FROM t"))?.n;
        });
        assert.equal(n, 3);
        assert.equal(db.stats().transactions, 1);
        assert.equal((await db.get<{ n: number }>("SELECT count(*) AS n FROM t"))?.n, 3);
      });

      it("rolls back when fn throws, and rethrows", async () => {
        const db = use(await fresh());
        await assert.rejects(
          db.transaction(async (tx) => {
            await tx.run("INSERT INTO t(v) VALUES ('gone')");
            throw new Error("changed my mind");
          }),
          /changed my mind/,
        );
        assert.deepEqual(await db.all("SELECT * FROM t"), []);
      });

      it("holds other writes until it ends while reads go on against the old state", async () => {
        const db = use(await fresh());
        let release!: () => void;
        const gate = new Promise<void>((r) => (release = r));
        let began!: () => void;
        const begun = new Promise<void>((r) => (began = r));
        const tx = db.transaction(async (tx) => {
          await tx.run("INSERT INTO t(id, v) VALUES (1, 'tx')");
          began();
          await gate;
          await tx.run("INSERT INTO t(id, v) VALUES (2, 'tx')");
        });
        await begun;
        const outside = db.run("INSERT INTO t(id, v) VALUES (3, 'outside')");
        // Reads are not blocked, and do not see the open transaction.
        assert.deepEqual(await db.all("SELECT * FROM t"), []);
        assert.equal(db.stats().queued, 1);
        release();
        await Promise.all([tx, outside]);
        assert.deepEqual(await db.all("SELECT id FROM t ORDER BY rowid"), [{ id: 1 }, { id: 2 }, {
          id: 3,
        }]);
      });

      it("rejects a write through db inside its own callback instead of deadlocking", async () => {
        const db = use(await fresh());
        await assert.rejects(
          db.transaction(async () => {
            await db.run("INSERT INTO t(v) VALUES ('inner')");
          }),
          /inside its own transaction\(\) callback/,
        );
        await db.run("INSERT INTO t(v) VALUES ('after')");
        assert.deepEqual(await db.all("SELECT v FROM t"), [{ v: "after" }]);
      });

      it("rolls back and fails with TimeoutError after transactionTimeout", async () => {
        const db = use(await fresh({ transactionTimeout: 100 }));
        let timedOut!: () => void;
        const ended = new Promise<void>((r) => (timedOut = r));
        let lateCall!: (answer: unknown) => void;
        const late = new Promise((r) => (lateCall = r));
        const tx = db.transaction(async (tx) => {
          await tx.run("INSERT INTO t(v) VALUES ('slow')");
          await ended; // until transaction() has failed
          lateCall(await tx.run("INSERT INTO t(v) VALUES ('too late')").catch((e) => e));
        });
        await assert.rejects(
          within(tx, 5000, "the transaction to time out").finally(timedOut),
          (e: unknown) => e instanceof Error && e.name === "TimeoutError",
        );
        assert.match(String(await within(late, 5000, "the late call")), /transaction has ended/);
        await db.run("INSERT INTO t(v) VALUES ('next')");
        assert.deepEqual(await db.all("SELECT v FROM t"), [{ v: "next" }]);
      });

      it("refuses a timeout that is not a positive 32-bit integer", async () => {
        const db = use(await fresh());
        for (const timeout of [0, -5, NaN, 1.5, 2 ** 31]) {
          await assert.rejects(db.transaction(() => 1, { timeout }), /timeout/);
        }
        assert.equal(await db.transaction(() => 7, { timeout: 2 ** 31 - 1 }), 7);
      });

      it("lets a transaction accepted before close() read and commit while it closes", async () => {
        const db = await fresh();
        let began!: () => void;
        const begun = new Promise<void>((r) => (began = r));
        let closing!: () => void;
        const closeCalled = new Promise<void>((r) => (closing = r));
        const tx = db.transaction(async (tx) => {
          began();
          await closeCalled;
          await tx.run("INSERT INTO t(v) VALUES ('committed')");
          return await db.get("SELECT count(*) AS n FROM t");
        });
        await begun;
        const closed = db.close();
        closing();
        await closed;
        assert.deepEqual(await tx, { n: 0 });
        await assert.rejects(db.get("SELECT 1"), ClosedError);
      });

      it("runs queued transactions one after another in call order", async () => {
        const db = use(await fresh());
        const order: number[] = [];
        await Promise.all([1, 2, 3].map((n) =>
          db.transaction(async (tx) => {
            order.push(n);
            await tx.run("INSERT INTO t(v) VALUES (?)", [n]);
            await tx.run("INSERT INTO t(v) VALUES (?)", [n]);
          })
        ));
        assert.deepEqual(order, [1, 2, 3]);
        const rows = await db.all<{ v: number }>("SELECT v FROM t ORDER BY id");
        assert.deepEqual(rows.map((r) => r.v), [1, 1, 2, 2, 3, 3]);
      });
    });

    describe("abort signals", () => {
      it("never applies a request aborted before the writer starts it", async () => {
        const db = use(await fresh());
        const already = AbortSignal.abort(new Error("already"));
        await assert.rejects(
          db.run("INSERT INTO t(v) VALUES (1)", [], { signal: already }),
          /already/,
        );
        // Queue behind an open transaction, then abort while it waits.
        const tx = await holdWriter(db);
        const controller = new AbortController();
        const aborted = db.run("INSERT INTO t(v) VALUES ('aborted')", [], {
          signal: controller.signal,
        })
          .catch((e) => e);
        const kept = db.run("INSERT INTO t(v) VALUES ('kept')");
        controller.abort(new Error("stop"));
        await tx.release();
        assert.match(String(await aborted), /stop/);
        await kept;
        assert.deepEqual(await db.all("SELECT v FROM t"), [{ v: "kept" }]);
      });

      it("never begins a transaction aborted while it waits for the writer", async () => {
        const db = use(await fresh());
        const first = await holdWriter(db);
        const controller = new AbortController();
        let ran = false;
        const second = db.transaction(async (tx) => {
          ran = true;
          await tx.run("INSERT INTO t(v) VALUES ('never')");
        }, { signal: controller.signal }).catch((e) => e);
        controller.abort(new Error("no longer needed"));
        await first.release();
        assert.match(String(await second), /no longer needed/);
        assert.equal(ran, false);
        assert.deepEqual(await db.all("SELECT * FROM t"), []);
      });

      it("completes a request normally when aborted after it was applied", async () => {
        const db = use(await fresh());
        const controller = new AbortController();
        const r = await db.run("INSERT INTO t(v) VALUES (1)", [], { signal: controller.signal });
        controller.abort();
        assert.equal(r.changes, 1);
        assert.equal((await db.all("SELECT * FROM t")).length, 1);
      });
    });

    describe("close()", () => {
      it("commits 10 000 pending writes, then closes; a reopen sees them all", async () => {
        const path = await place();
        const db = await openDb({}, path);
        await db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v)");
        const calls = Array.from(
          { length: 10_000 },
          (_, i) => db.run("INSERT INTO t(v) VALUES (?)", [i]),
        );
        const closed = db.close();
        await assert.rejects(db.run("INSERT INTO t(v) VALUES ('late')"), ClosedError);
        await closed;
        const { values, errors } = await settle(calls);
        assert.equal(errors.length, 0);
        assert.equal(values.length, 10_000);
        const again = use(await openDb({}, path));
        assert.deepEqual(await again.get("SELECT count(*) AS n FROM t"), { n: 10_000 });
        assert.deepEqual(await again.get("PRAGMA integrity_check"), { integrity_check: "ok" });
      });

      it(
        "checkpoints and removes the -wal file when it closes",
        localOnly(
          "a remote database has no local file: the server keeps its WAL and checkpoints it " +
            "itself; closing a remote database only ends walpool's requests",
        ),
        async () => {
          const path = await place();
          const db = await openDb({}, path);
          await db.exec("CREATE TABLE t(v)");
          await Promise.all(
            Array.from({ length: 200 }, (_, i) => db.run("INSERT INTO t VALUES (?)", [i])),
          );
          assert.ok(existsSync(`${path}-wal`));
          await db.close();
          assert.equal(existsSync(`${path}-wal`), false);
        },
      );

      it("is what Symbol.asyncDispose (await using) calls", async () => {
        const path = await place();
        const first = await openDb({}, path);
        await first.exec("CREATE TABLE t(a)");
        void first.run("INSERT INTO t VALUES (1)");
        await first[Symbol.asyncDispose]();
        await assert.rejects(first.get("SELECT 1"), ClosedError);
        const db = use(await openDb({}, path));
        assert.deepEqual(await db.all("SELECT a FROM t"), [{ a: 1 }]);
      });
    });
  });
}
