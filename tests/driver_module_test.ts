// The `driver` option also takes the URL of a module exporting a Driver: the writer, each reader
// worker and the calling thread's reader import it and open their connections with it. A string
// that is neither a driver's name nor a URL is refused; a module that cannot be imported, or
// exports no Driver, makes open() reject with an error naming it, never hang.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { type DriverName, open, SqliteError } from "../mod.ts";
import { faultDriver } from "./_fault_driver.ts";
import { tempPath } from "./_helpers.ts";

const counting = new URL("./_counting_driver.ts", import.meta.url);

/** The connections the counting driver opened for `path`, sorted: "reader" and "writer" lines. */
const opens = (path: string) => readFileSync(`${path}.opens`, "utf8").trim().split("\n").sort();

describe("driver modules", () => {
  it("the writer, every reader worker and the inline reader open their connections with it", async () => {
    const path = tempPath();
    const db = await open(path, { driver: counting, readers: 2 });
    try {
      await db.exec("CREATE TABLE t(v)");
      await db.run("INSERT INTO t VALUES (?)", [1]);
      assert.deepEqual(await db.get("SELECT v FROM t", [], { route: "workers" }), { v: 1 });
      assert.deepEqual(await db.get("SELECT v FROM t", [], { route: "inline" }), { v: 1 });
      assert.equal(await db.transaction(async (tx) => (await tx.all("SELECT v FROM t")).length), 1);
    } finally {
      await db.close();
    }
    // 2 reader workers and the inline reader (read-only connections), the writer, and the
    // calling thread's write connection for transactions (routeTransactions: "adaptive").
    assert.deepEqual(opens(path), ["reader", "reader", "reader", "writer", "writer"]);
  });

  it("takes the URL as a string too", async () => {
    const path = tempPath();
    const db = await open(path, { driver: counting.href, readers: 1, routeReads: "workers" });
    await db.close();
    assert.deepEqual(opens(path), ["reader", "writer", "writer"]);
  });

  it("a plan of the fault driver reaches the readers' connections, and only theirs", async () => {
    const driver = faultDriver({
      op: "step",
      nth: 1,
      code: "SQLITE_IOERR",
      persistent: true,
      role: "readers",
    });
    // No write connection on the calling thread: its reads would use it between transactions.
    const db = await open(tempPath(), { driver, readers: 1, routeTransactions: "writer" });
    try {
      await db.exec("CREATE TABLE t(v)");
      assert.equal((await db.run("INSERT INTO t VALUES (1)")).changes, 1);
      for (const route of ["workers", "inline"] as const) {
        await assert.rejects(db.get("SELECT v FROM t", [], { route }), (e: unknown) => {
          assert.ok(e instanceof SqliteError, `${route}: ${e}`);
          assert.equal(e.code, "SQLITE_IOERR");
          return true;
        });
      }
      // A read in a transaction runs on the writer, whose connection has no fault.
      assert.deepEqual(await db.transaction((tx) => tx.get("SELECT v FROM t")), { v: 1 });
    } finally {
      await db.close();
    }
  });

  it("refuses a driver that is neither a driver's name nor a file:, http: or https: URL", async () => {
    const refused: unknown[] = [
      "sqlite9",
      "./_counting_driver.ts", // a relative path is not a URL
      "node:sqlit",
      "ftp://example.com/driver.ts",
      new URL("data:text/javascript,export default 1"),
      42,
    ];
    for (const driver of refused) {
      const path = tempPath();
      await assert.rejects(open(path, { driver: driver as DriverName }), {
        name: "TypeError",
        message: new RegExp(
          `^Unknown driver "${String(driver).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}": use ` +
            `"bun:sqlite", "node:sqlite", "@db/sqlite" or the URL of a driver module`,
        ),
      });
    }
  });

  it("open() rejects with an error naming the URL when the module cannot be imported", async () => {
    const missing = pathToFileURL(tempPath("missing_driver.ts"));
    for (const driver of [missing, missing.href]) {
      await assert.rejects(open(tempPath(), { driver }), (e: unknown) => {
        assert.ok(e instanceof Error);
        assert.ok(
          e.message.startsWith(`Cannot import the driver module ${missing.href}: `),
          e.message,
        );
        return true;
      });
    }
  });

  it("open() rejects with a TypeError naming the URL when the module exports no Driver", async () => {
    const incomplete = new URL("./_no_driver.ts", import.meta.url);
    for (const readers of [0, 2]) {
      await assert.rejects(open(tempPath(), { driver: incomplete, readers }), {
        name: "TypeError",
        message: `The driver module ${incomplete.href} exports no Driver: it needs an export ` +
          `named "driver" (or a default export) with name, open() and errorInfo()`,
      });
    }
  });
});
