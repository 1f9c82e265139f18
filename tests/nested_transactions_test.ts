// tx.transaction(fn): nested transactions under savepoints, on the local writer and, when sqld is
// available, on a remote database.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Database, open, TransactionError } from "../mod.ts";
import { tempPath } from "./_helpers.ts";
import { Sqld, sqldAvailable } from "./_sqld.ts";

const remote = sqldAvailable();

for (const where of ["local", "remote"] as const) {
  const skip = where === "remote" && remote !== true ? remote : false;
  describe(`nested transactions (${where})`, { skip }, () => {
    let server: Sqld | undefined;
    let db: Database;
    before(async () => {
      if (where === "remote") server = await Sqld.start();
      db = await open(server ? server.url : tempPath());
      await db.exec("CREATE TABLE t(v TEXT)");
    });
    after(async () => {
      await db?.close();
      await server?.stop();
    });
    const rows = async () => (await db.values<[string]>("SELECT v FROM t ORDER BY rowid")).flat();

    it("releases a nested transaction that resolves: all commits with the outer one", async () => {
      await db.exec("DELETE FROM t");
      const value = await db.transaction(async (tx) => {
        await tx.run("INSERT INTO t VALUES ('outer')");
        return await tx.transaction(async (inner) => {
          await inner.run("INSERT INTO t VALUES ('inner')");
          return (await inner.get<{ n: number }>("SELECT count(*) AS n FROM t"))!.n;
        });
      });
      assert.equal(value, 2);
      assert.deepEqual(await rows(), ["outer", "inner"]);
    });

    it("rolls back only the nested part when it throws, rethrows, and the outer one goes on", async () => {
      await db.exec("DELETE FROM t");
      await db.transaction(async (tx) => {
        await tx.run("INSERT INTO t VALUES ('a')");
        await assert.rejects(
          tx.transaction(async (inner) => {
            await inner.run("INSERT INTO t VALUES ('gone')");
            throw new Error("inner failed");
          }),
          /inner failed/,
        );
        assert.deepEqual((await tx.values("SELECT v FROM t")).flat(), ["a"]);
        await tx.run("INSERT INTO t VALUES ('b')");
      });
      assert.deepEqual(await rows(), ["a", "b"]);
    });

    it("nests three deep: a failure in the middle undoes it and what it holds, nothing else", async () => {
      await db.exec("DELETE FROM t");
      await db.transaction(async (tx) => {
        await tx.run("INSERT INTO t VALUES ('1')");
        await tx.transaction(async (two) => {
          await two.run("INSERT INTO t VALUES ('2')");
          await two.transaction(async (three) => {
            await three.run("INSERT INTO t VALUES ('3')");
            await three.transaction((four) => four.run("INSERT INTO t VALUES ('4')"));
            throw new Error("three fails");
          }).catch(() => {});
          await two.run("INSERT INTO t VALUES ('2b')");
        });
      });
      assert.deepEqual(await rows(), ["1", "2", "2b"]);
    });

    it("undoes released nested work when the outer transaction rolls back", async () => {
      await db.exec("DELETE FROM t");
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.transaction((inner) => inner.run("INSERT INTO t VALUES ('released')"));
          throw new Error("outer fails");
        }),
        /outer fails/,
      );
      assert.deepEqual(await rows(), []);
    });

    it("refuses a statement on a nested tx that has ended, and raw SAVEPOINT statements", async () => {
      await db.transaction(async (tx) => {
        let kept: { run(sql: string): Promise<unknown> } | undefined;
        await tx.transaction((inner) => {
          kept = inner;
        });
        await assert.rejects(kept!.run("INSERT INTO t VALUES ('late')"), TransactionError);
        await assert.rejects(tx.run("SAVEPOINT mine"), TypeError);
        await assert.rejects(tx.exec("RELEASE mine"), TypeError);
        await assert.rejects(tx.transaction("not a function" as never), TypeError);
      });
    });

    it("keeps concurrent transactions with nested parts apart, each committing what it kept", async () => {
      await db.exec("DELETE FROM t");
      await Promise.all(Array.from({ length: 40 }, (_, i) =>
        db.transaction(async (tx) => {
          await tx.run("INSERT INTO t VALUES (?)", [`keep${i}`]);
          await tx.transaction(async (inner) => {
            await inner.run("INSERT INTO t VALUES (?)", [`maybe${i}`]);
            if (i % 2) throw new Error("odd");
          }).catch(() => {});
        })));
      const all = await rows();
      assert.equal(all.filter((v) => v.startsWith("keep")).length, 40);
      assert.deepEqual(
        all.filter((v) => v.startsWith("maybe")).sort(),
        Array.from({ length: 20 }, (_, k) => `maybe${k * 2}`).sort(),
      );
    });
  });
}
