// db.iterate(): rows streamed in chunks from a reader (or the calling thread), with backpressure,
// stopped at once by break or a signal; on the local drivers and, when sqld is available, remote.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ClosedError, type Database, open, SqliteError, WorkerError } from "../mod.ts";
import { internals } from "../lib/database.ts";
import { runtime, runtimeCommand, sleep, tempPath, waitFor } from "./_helpers.ts";
import { Sqld, sqldAvailable } from "./_sqld.ts";

const remote = sqldAvailable();

async function collect<T>(rows: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const row of rows) out.push(row);
  return out;
}

/**
 * The WAL's size after the writer's idle checkpoint that follows a write: above 0 while a
 * reader's snapshot keeps the WAL from being reset.
 */
async function walAfterIdleCheckpoint(db: Database): Promise<number> {
  const before = db.stats().checkpoints;
  await db.run("INSERT INTO t(v) VALUES ('tick')");
  await waitFor(() => db.stats().checkpoints > before, 5000, "an idle checkpoint");
  await sleep(100); // its TRUNCATE too
  return db.stats().walBytes;
}

for (const where of ["readers: 2", "readers: 0", "remote"] as const) {
  const skip = where === "remote" && remote !== true ? remote : false;
  describe(`iterate() (${where})`, { skip }, () => {
    let server: Sqld | undefined;
    let db: Database;
    before(async () => {
      if (where === "remote") server = await Sqld.start();
      // Writes on the writer: a test watches its idle checkpoints.
      db = await open(
        server?.url ?? tempPath(),
        where === "remote"
          ? {}
          : { readers: where === "readers: 0" ? 0 : 2, routeTransactions: "writer" },
      );
      await db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
      await db.exec(`INSERT INTO t(v) WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1
        FROM c WHERE i < 1000) SELECT 'row ' || i FROM c`);
    });
    after(async () => {
      await db?.close();
      await server?.stop();
    });

    it("streams every row in order, across chunk boundaries, as all() gives them", async () => {
      const all = await db.all("SELECT * FROM t WHERE id <= 1000 ORDER BY id");
      assert.equal(all.length, 1000);
      assert.deepEqual(
        await collect(
          db.iterate("SELECT * FROM t WHERE id <= ? ORDER BY id", [1000], { chunkSize: 7 }),
        ),
        all,
      );
      assert.deepEqual(await collect(db.iterate("SELECT * FROM t WHERE id < 0")), []);
    });

    it("rejects a SQL error, bad parameters or chunkSize from the first next(), for that call alone", async () => {
      await assert.rejects(collect(db.iterate("SELECT * FROM no_such_table")), SqliteError);
      await assert.rejects(collect(db.iterate("SELECT * FROM t WHERE id = ?", [])), RangeError);
      await assert.rejects(collect(db.iterate("SELECT 1", [], { chunkSize: 0 })), RangeError);
      assert.equal(
        (await db.get<{ n: number }>("SELECT count(*) AS n FROM t WHERE id <= 1000"))!.n,
        1000,
      );
    });

    it("stops at a signal with its reason, and at break", async () => {
      const controller = new AbortController();
      let n = 0;
      await assert.rejects(
        (async () => {
          for await (
            const _ of db.iterate("SELECT * FROM t", [], {
              chunkSize: 10,
              signal: controller.signal,
            })
          ) {
            if (++n === 25) controller.abort(new Error("enough"));
          }
        })(),
        /enough/,
      );
      assert.ok(n >= 25 && n <= 30, `read ${n} rows`);
      n = 0;
      for await (const _ of db.iterate("SELECT * FROM t", [], { chunkSize: 10 })) {
        if (++n === 3) break;
      }
      assert.equal(n, 3);
    });

    it("goes to the writer for a statement that writes (INSERT … RETURNING)", async () => {
      const rows = await collect(
        db.iterate<{ v: string }>("INSERT INTO t(v) VALUES ('a'), ('b') RETURNING v"),
      );
      assert.deepEqual(rows.map((r) => r.v), ["a", "b"]);
    });

    it("takes a write's place in the write order when it is called, not when it is read", async () => {
      const rows = db.iterate<{ v: string }>("INSERT INTO t(v) VALUES ('ordered') RETURNING v");
      await db.run("DELETE FROM t WHERE v = 'ordered'"); // made after: applies after
      assert.deepEqual((await collect(rows)).map((r) => r.v), ["ordered"]);
      assert.deepEqual(await db.get("SELECT count(*) AS n FROM t WHERE v = 'ordered'"), { n: 0 });
    });

    it("works inside a transaction, seeing its own writes", async () => {
      const seen = await db.transaction(async (tx) => {
        await tx.run("INSERT INTO t(v) VALUES ('in tx')");
        return await collect(tx.iterate<{ v: string }>("SELECT v FROM t WHERE v = ?", ["in tx"]));
      });
      assert.deepEqual(seen, [{ v: "in tx" }]);
    });

    if (where !== "remote") {
      it("holds a snapshot of its own: other reads see later writes; break frees it at once", async () => {
        const rows = db.iterate<{ id: number }>("SELECT id FROM t ORDER BY id", [], {
          chunkSize: 10,
        });
        const first = await rows.next();
        assert.equal(first.value?.id, 1);
        await db.run("INSERT INTO t(v) VALUES ('after the stream began')");
        assert.ok(
          await db.get("SELECT 1 FROM t WHERE v = 'after the stream began'"),
          "read your writes",
        );
        assert.ok(await walAfterIdleCheckpoint(db) > 0, "the open cursor holds its snapshot");
        await rows.return!(undefined);
        assert.equal(
          await walAfterIdleCheckpoint(db),
          0,
          "break ended the statement and its snapshot",
        );
      });

      it("after close() it rejects with ClosedError", async () => {
        const other = await open(tempPath(), where === "readers: 0" ? { readers: 0 } : {});
        await other.close();
        await assert.rejects(collect(other.iterate("SELECT 1")), ClosedError);
      });
    }

    if (where === "readers: 2") {
      it("rejects with WorkerError when the reader stops mid-stream, and the database goes on", async () => {
        const one = await open(tempPath(), { readers: 1, routeReads: "workers" });
        try {
          await one.exec(
            `CREATE TABLE n(x); INSERT INTO n WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL
            SELECT i + 1 FROM c WHERE i < 5000) SELECT i FROM c`,
          );
          const rows = one.iterate("SELECT x FROM n", [], { chunkSize: 100 });
          await rows.next();
          internals.get(one)!.readers.workers[0]!.terminate();
          await assert.rejects(collect(rows), WorkerError);
          assert.deepEqual(await one.get("SELECT count(*) AS c FROM n"), { c: 5000 });
        } finally {
          await one.close();
        }
      });
    }
  });
}

describe("iterate() memory", () => {
  for (const readers of [2, 0]) {
    it(`keeps memory flat over 2 000 000 rows with a consumer that pauses (readers: ${readers})`, async () => {
      // In a child with the garbage collector at hand, so that what is measured is what is kept.
      const script = fileURLToPath(new URL("./_iterate_memory_child.ts", import.meta.url));
      const [cmd, args] = runtimeCommand(script, String(readers));
      const flags = runtime === "deno"
        ? ["--v8-flags=--expose-gc"]
        : runtime === "node"
        ? ["--expose-gc"]
        : [];
      const child = spawn(
        cmd,
        runtime === "deno" ? [args[0], ...flags, ...args.slice(1)] : [...flags, ...args],
        {
          stdio: ["ignore", "pipe", "inherit"],
        },
      );
      let out = "";
      child.stdout!.on("data", (d) => (out += d));
      const code = await new Promise((resolve) => child.once("exit", resolve));
      assert.equal(code, 0, out);
      const result = JSON.parse(out.trim().split("\n").at(-1)!);
      assert.equal(result.rows, 2_000_000);
      // 2 000 000 rows are over 150 MB as objects: streamed, what is kept barely moves.
      assert.ok(result.heapGrowthMiB < 16, `heap kept grew by ${result.heapGrowthMiB} MiB`);
      // The process (reader workers included): buffering the result would take over 250 MiB.
      assert.ok(result.rssGrowthMiB < 128, `the process grew by ${result.rssGrowthMiB} MiB`);
    });
  }
});
