// Child process for the crash test: writes forever with many concurrent callers and prints the id
// of each write only after it resolved ("acknowledged"). The parent kills it with SIGKILL.
// Ids that are multiples of 5 are batches of three rows, to check all-or-nothing.

import { open } from "../mod.ts";

const argv = (globalThis as unknown as { process: { argv: string[] } }).process.argv.slice(2);
const [path, durability, first] = argv;
const db = await open(path, { durability: durability as "normal" | "full", readers: 0 });
await db.exec(`CREATE TABLE IF NOT EXISTS acks(id INTEGER PRIMARY KEY, body TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS parts(g INTEGER NOT NULL, part INTEGER NOT NULL)`);
const out = (globalThis as unknown as { process: { stdout: { write(s: string): void } } }).process
  .stdout;
let next = Number(first);
out.write("ready\n");
await Promise.all(Array.from({ length: 32 }, async () => {
  for (;;) {
    const id = next++;
    if (id % 5 === 0) {
      await db.batch([0, 1, 2].map((part) => ({
        sql: "INSERT INTO parts(g, part) VALUES (?, ?)",
        params: [id, part],
      })));
    } else {
      await db.run("INSERT INTO acks(id, body) VALUES (?, ?)", [id, "x".repeat(100)]);
    }
    out.write(`${id}\n`);
  }
}));
