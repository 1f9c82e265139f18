// db.backup(): a consistent copy to a new file while writes go on, with progress; clear errors
// for a destination that exists or cannot be written, harming nothing.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { open, SqliteError } from "../mod.ts";
import { tempPath } from "./_helpers.ts";
import { Sqld, sqldAvailable } from "./_sqld.ts";

describe("backup()", () => {
  for (const readers of [2, 0]) {
    it(`copies a consistent snapshot while writes go on, reporting progress (readers: ${readers})`, async () => {
      const db = await open(tempPath(), { readers });
      try {
        await db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT); CREATE TABLE tally(n)");
        await db.exec(`INSERT INTO t(body) WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL
          SELECT i + 1 FROM c WHERE i < 200000) SELECT printf('%0100d', i) FROM c`);
        await db.run("INSERT INTO tally VALUES (200000)");
        // Writes go on during the copy, each keeping t's row count and tally equal.
        let stop = false;
        let during = 0;
        const writer = (async () => {
          while (!stop) {
            await db.transaction(async (tx) => {
              await tx.run("INSERT INTO t(body) VALUES ('more')");
              await tx.run("UPDATE tally SET n = n + 1");
            });
            during++;
          }
        })();
        const progress: { bytes: number; totalBytes: number }[] = [];
        const copy = join(dirname(tempPath()), "copy.db");
        await db.backup(copy, { onProgress: (p) => progress.push(p) });
        const afterBackup = during;
        stop = true;
        await writer;
        assert.ok(afterBackup > 0, "writes went on while the copy was made");
        const last = progress.at(-1)!;
        assert.ok(last.bytes > 0 && last.bytes === last.totalBytes, JSON.stringify(progress));
        const restored = await open(copy);
        try {
          assert.deepEqual(await restored.get("PRAGMA integrity_check"), { integrity_check: "ok" });
          const { rows, n } = (await restored.get<{ rows: number; n: number }>(
            "SELECT (SELECT count(*) FROM t) AS rows, (SELECT n FROM tally) AS n",
          ))!;
          assert.equal(rows, n, "one snapshot: the copy holds whole transactions only");
          assert.ok(rows >= 200000);
        } finally {
          await restored.close();
        }
      } finally {
        await db.close();
      }
    });
  }

  it("refuses a destination that exists, leaving it and the database as they were", async () => {
    const db = await open(tempPath());
    try {
      await db.exec("CREATE TABLE t(x); INSERT INTO t VALUES (1)");
      const taken = join(dirname(tempPath()), "taken.db");
      writeFileSync(taken, "mine");
      await assert.rejects(
        db.backup(taken),
        (e: Error) => /exists/.test(e.message) && e.message.includes(taken),
      );
      assert.equal(readFileSync(taken, "utf8"), "mine");
      await db.run("INSERT INTO t VALUES (2)");
      assert.deepEqual(await db.get("SELECT count(*) AS n FROM t"), { n: 2 });
    } finally {
      await db.close();
    }
  });

  it("rejects a destination that cannot be written with SqliteError naming it, leaving nothing", async () => {
    const db = await open(tempPath());
    try {
      await db.exec("CREATE TABLE t(x)");
      const dir = join(dirname(tempPath()), "missing");
      const nowhere = join(dir, "copy.db");
      await assert.rejects(
        db.backup(nowhere),
        (e: Error) => e instanceof SqliteError && e.message.includes(nowhere),
      );
      assert.equal(existsSync(nowhere), false);
      mkdirSync(dir);
      await db.backup(nowhere); // the same call works once it can
      assert.ok(existsSync(nowhere));
      await assert.rejects(db.backup(42 as never), TypeError);
      await assert.rejects(db.backup(join(dir, "x.db"), { onProgress: "no" as never }), TypeError);
      await db.run("INSERT INTO t VALUES (1)");
    } finally {
      await db.close();
    }
  });

  it("is refused with a TypeError on a remote database", {
    skip: sqldAvailable() === true ? false : String(sqldAvailable()),
  }, async () => {
    const server = await Sqld.start();
    const db = await open(server.url);
    try {
      await assert.rejects(db.backup(tempPath()), /a remote database is the server's/);
    } finally {
      await db.close();
      await server.stop();
    }
  });
});
