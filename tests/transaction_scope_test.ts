// A write through the database from inside its own transaction callback is refused, however
// deep in the callback's awaits it is made; a write from anywhere else waits for the transaction
// and is done. On Node 22 this is found from V8's async stack trace (lib/_tx_scope.ts), on the
// other runtimes from AsyncLocalStorage: the same cases hold on all three, for transactions run
// on the calling thread and on the writer.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Database, open, TransactionError } from "../mod.ts";
import { tempPath } from "./_helpers.ts";

const refused = (e: unknown) => e instanceof TransactionError && e.reason === "write-through-db";

for (const route of ["adaptive", "writer"] as const) {
  describe(`writes through db inside a transaction callback (routeTransactions: ${route})`, () => {
    const opened: Database[] = [];
    after(async () => {
      for (const db of opened) await db.close();
    });
    async function fresh(): Promise<Database> {
      const db = await open(tempPath(), { routeTransactions: route });
      opened.push(db);
      await db.exec("CREATE TABLE t(v TEXT)");
      // Known to be cheap, so that "adaptive" runs the next ones on the calling thread.
      for (let i = 0; i < 3; i++) {
        await db.transaction(async (tx) => await tx.run("INSERT INTO t(v) VALUES ('seed')"));
      }
      await db.run("DELETE FROM t");
      return db;
    }

    it("are refused after the callback's own statements, in helpers, and under Promise.all", async () => {
      const db = await fresh();
      const helper = async (v: string) => {
        await Promise.resolve();
        return await db.run("INSERT INTO t(v) VALUES (?)", [v]);
      };
      const errors: unknown[] = [];
      await db.transaction(async (tx) => {
        await tx.run("INSERT INTO t(v) VALUES ('tx')");
        errors.push(await db.run("INSERT INTO t(v) VALUES ('direct')").catch((e) => e));
        errors.push(await helper("helper").catch((e) => e));
        const all = await Promise.allSettled([helper("all 1"), helper("all 2")]);
        for (const r of all) errors.push(r.status === "rejected" ? r.reason : r.value);
        errors.push(await db.batch([{ sql: "INSERT INTO t(v) VALUES ('batch')" }]).catch((e) => e));
        errors.push(await db.transaction(() => {}).catch((e) => e));
      });
      assert.equal(errors.length, 6);
      for (const e of errors) assert.ok(refused(e), `not refused: ${e}`);
      assert.deepEqual(await db.all("SELECT v FROM t"), [{ v: "tx" }]);
    });

    it("a write made by other code while the transaction is open waits for it and is done", async () => {
      const db = await fresh();
      let letGo!: () => void;
      const held = new Promise<void>((r) => (letGo = r));
      const tx = db.transaction(async (tx) => {
        await tx.run("INSERT INTO t(v) VALUES ('tx')");
        setTimeout(letGo, 20);
        await held;
      });
      // Not awaited by the callback: made from this test's own async function.
      await new Promise((r) => setTimeout(r, 5));
      const outside = db.run("INSERT INTO t(v) VALUES ('outside')");
      await tx;
      await outside;
      assert.deepEqual(await db.all("SELECT v FROM t ORDER BY rowid"), [{ v: "tx" }, {
        v: "outside",
      }]);
    });

    it("a write to another database from inside the callback is done", async () => {
      const db = await fresh();
      const other = await fresh();
      await db.transaction(async (tx) => {
        await tx.run("INSERT INTO t(v) VALUES ('here')");
        await other.run("INSERT INTO t(v) VALUES ('there')");
      });
      assert.deepEqual(await db.all("SELECT v FROM t"), [{ v: "here" }]);
      assert.deepEqual(await other.all("SELECT v FROM t"), [{ v: "there" }]);
    });

    it("after its transaction ended, a write from the callback's leftover code is done", async () => {
      const db = await fresh();
      let later!: Promise<unknown>;
      await db.transaction(async (tx) => {
        await tx.run("INSERT INTO t(v) VALUES ('tx')");
        later = new Promise((r) => setTimeout(r, 10)).then(() =>
          db.run("INSERT INTO t(v) VALUES ('later')")
        );
      });
      await later;
      assert.deepEqual(await db.all("SELECT v FROM t ORDER BY rowid"), [{ v: "tx" }, {
        v: "later",
      }]);
    });
  });
}
