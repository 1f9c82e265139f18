// Child process: its own walpool on a shared file, `count` inserts tagged with `tag` from 64
// concurrent callers; prints "done <ok> <failed>" and closes.

import { open } from "../mod.ts";

const argv = (globalThis as unknown as { process: { argv: string[] } }).process.argv.slice(2);
const [path, tag, count] = argv;
const db = await open(path, { readers: 1, busyTimeout: 30_000 });
let next = 0, ok = 0, failed = 0;
await Promise.all(Array.from({ length: 64 }, async () => {
  while (next < Number(count)) {
    const n = next++;
    try {
      await db.run("INSERT INTO t(tag, n) VALUES (?, ?)", [tag, n]);
      ok++;
    } catch (error) {
      failed++;
      console.error(error);
    }
    if (n % 1000 === 0) await db.get("SELECT count(*) AS c FROM t");
  }
}));
await db.close();
console.log(`done ${ok} ${failed}`);
