// Child process: opens a database, writes, and ends without close(). Prints "wrote".
import { open } from "../mod.ts";

const [path] = (globalThis as unknown as { process: { argv: string[] } }).process.argv.slice(2);
const db = await open(path);
await db.exec("CREATE TABLE t(v)");
await db.run("INSERT INTO t VALUES (1)");
console.log("wrote");
