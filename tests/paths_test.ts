// The database's path: made absolute once at open (so that every worker, and one started again
// after the process changed directory, opens the same file), by the platform's own rules: on
// Windows, `C:\…`, `C:/…` and `\\server\share\…` are absolute too.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, realpathSync } from "node:fs";
import { basename, dirname, posix, win32 } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { open } from "../mod.ts";
import { absolutePath } from "../lib/_options.ts";
import { tempPath } from "./_helpers.ts";

describe("database paths", () => {
  it("takes Windows paths with a drive or a server as absolute, by Windows' rules", () => {
    const cwd = () => "D:\\work";
    for (
      const p of ["C:\\data\\app.db", "C:/data/app.db", "\\\\server\\share\\app.db", "\\app.db"]
    ) {
      assert.equal(absolutePath(p, win32, cwd), p);
    }
    assert.equal(absolutePath("app.db", win32, cwd), "D:\\work\\app.db");
    assert.equal(absolutePath("data\\app.db", win32, () => "C:\\"), "C:\\data\\app.db");
  });

  it("takes only /… as absolute by POSIX rules (C:\\x is a file name there)", () => {
    const cwd = () => "/srv";
    assert.equal(absolutePath("/var/app.db", posix, cwd), "/var/app.db");
    assert.equal(absolutePath("app.db", posix, cwd), "/srv/app.db");
    assert.equal(absolutePath("C:\\app.db", posix, cwd), "/srv/C:\\app.db");
    assert.equal(absolutePath("app.db", posix, () => "/"), "/app.db");
  });

  it("opens a relative path in the current directory, and keeps that file after a chdir", async () => {
    const file = tempPath("relative.db");
    const dir = realpathSync(dirname(file));
    const before = process.cwd();
    process.chdir(dir);
    let db;
    try {
      db = await open(basename(file), { readers: 1 });
    } finally {
      process.chdir(before);
    }
    try {
      await db.exec("CREATE TABLE t(v)");
      await db.run("INSERT INTO t VALUES (1)");
      assert.deepEqual(await db.get("SELECT v FROM t", [], { route: "workers" }), { v: 1 });
    } finally {
      await db.close();
    }
    assert.ok(existsSync(`${dir}/relative.db`));
    assert.ok(!existsSync(`${before}/relative.db`));
  });

  it("opens a file: URL", async () => {
    const file = tempPath("url.db");
    const db = await open(pathToFileURL(file), { readers: 0 });
    await db.exec("CREATE TABLE t(v)");
    await db.close();
    assert.ok(existsSync(file));
  });
});
