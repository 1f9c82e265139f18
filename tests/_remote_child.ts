// Child process: a walpool client of a remote database (sqld at `url`) writing rows tagged `tag`
// from 32 concurrent callers, `count` in all (or until killed, with count 0). Prints "ack <n>"
// for each write whose promise resolved, "fail <name>" for each that rejected, then "done".

import { open } from "../mod.ts";

const argv = (globalThis as unknown as { process: { argv: string[] } }).process.argv.slice(2);
const [url, tag, count] = argv;
const limit = Number(count) || Infinity;
const db = await open(url, { requestTimeout: 20_000 });
let next = 0;
const out: string[] = [];
const flush = setInterval(() => out.length && console.log(out.splice(0).join("\n")), 5);
await Promise.all(Array.from({ length: 32 }, async () => {
  while (next < limit) {
    const n = next++;
    try {
      await db.run("INSERT INTO rows(tag, n) VALUES (?, ?)", [tag, n]);
      out.push(`ack ${n}`);
    } catch (error) {
      out.push(`fail ${(error as Error).name} ${(error as Error).message}`);
    }
  }
}));
await db.close();
clearInterval(flush);
if (out.length) console.log(out.join("\n"));
console.log("done");
