// Child process: `cycles` open/write/close cycles on one file, some with a worker terminated on
// the way; prints "done" and must then exit by itself (no leaked worker keeps it alive).

import { open } from "../mod.ts";
import { internals } from "../lib/database.ts";

const argv = (globalThis as unknown as { process: { argv: string[] } }).process.argv.slice(2);
const [path, cycles] = argv;
for (let i = 0; i < Number(cycles); i++) {
  const db = await open(path, { readers: i % 3 });
  if (i === 0) await db.exec("CREATE TABLE IF NOT EXISTS t(i INTEGER)");
  const writes = [db.run("INSERT INTO t VALUES (?)", [i]), db.run("INSERT INTO t VALUES (?)", [i])];
  if (i % 10 === 5) internals.get(db)!.writer.client.terminate();
  if (i % 10 === 7 && i % 3) internals.get(db)!.readers.workers[0]?.terminate();
  await Promise.allSettled(writes);
  await db.get("SELECT count(*) AS n FROM t").catch(() => {});
  await db.close();
}
console.log("done");
