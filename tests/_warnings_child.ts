// Child process: opens a database with two readers, writes and reads, closes, then emits a
// warning of its own; the parent counts what reached stderr.

import process from "node:process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open } from "../mod.ts";

const db = await open(join(mkdtempSync(join(tmpdir(), "walpool-warn-")), "w.db"), { readers: 2 });
await db.exec("CREATE TABLE t(x)");
await Promise.all([db.run("INSERT INTO t VALUES (1)"), db.get("SELECT * FROM t")]);
await db.all("SELECT * FROM t", [], { route: "workers" });
await db.close();
process.emitWarning("my own feature is experimental", "ExperimentalWarning");
