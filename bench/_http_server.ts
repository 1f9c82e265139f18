// The server bench/http.ts measures: a bank-account service on node:http (Deno, Bun and Node 22)
// over one SQLite file, in one of three modes. bench/http.ts starts one per run; by hand:
//
//   deno run -A bench/_http_server.ts --mode=raw --db=/tmp/x/bank.db
//   bun bench/_http_server.ts --mode=walpool --db=/tmp/x/bank.db --options='{"readers":0}'
//   node bench/_http_server.ts --mode=walpool-batch --db=/tmp/x/bank.db
//
//   GET  /read?id=N            200 {"id":N,"balance":B}       a point read by primary key
//   POST /write?id=N&delta=D   200 {"id":N,"balance":B+D}     read, UPDATE, INSERT into history
//
// Modes: `raw` is the runtime's own binding used synchronously on the main thread (node:sqlite on
// Deno and Node, bun:sqlite on Bun; bench/_raw.ts's openRaw: WAL, synchronous=NORMAL, busy_timeout
// 5000), prepared statements reused, the write as BEGIN IMMEDIATE…COMMIT. `walpool` is walpool with
// default options (plus --options, a JSON object of open options), written the natural way:
// db.get() for reads, db.transaction() for the read-then-write. `walpool-procedure` runs the same
// read-then-write as a write procedure (bench/_bank_procedures.ts, db.call()). `walpool-batch` writes with
// db.batch([UPDATE, INSERT]) instead (no read; answers {"id":N,"changes":1}).
//
// Before listening it creates and seeds the file (10 000 accounts of balance 1000, unless
// --accounts=N) when the file is new. Then it prints `listening <port>` (127.0.0.1, a free port).
// On SIGTERM/SIGINT it stops taking connections, closes the database (walpool commits every write
// it accepted), checks the file (sum of balances minus the seed = sum of history deltas; history
// rows = writes answered 2xx) and prints one line `result <json>` with its counters, then exits 0.

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { existsSync } from "node:fs";
import process from "node:process";
import { type Database, open, type OpenOptions } from "../mod.ts";
import { errorName, openRaw, rawDriver, runtimeVersion } from "./_raw.ts";

// --- options --------------------------------------------------------------------------------

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const arg = args.find((a) => a.startsWith(`--${name}=`));
  return arg === undefined ? undefined : arg.slice(name.length + 3);
};
const mode = flag("mode") ?? "walpool";
const dbPath = flag("db");
const accounts = Number(flag("accounts") ?? 10_000);
const initialBalance = 1000;
if (!["raw", "walpool", "walpool-batch", "walpool-procedure"].includes(mode)) {
  throw new TypeError(
    `--mode must be raw, walpool, walpool-batch or walpool-procedure, not ${mode}`,
  );
}
if (!dbPath) throw new TypeError("--db=path is required");
const options = JSON.parse(flag("options") ?? "{}") as OpenOptions;

// --- seeding (before listening, so it never counts) -------------------------------------------

if (!existsSync(dbPath)) {
  const seed = openRaw(dbPath);
  seed.exec(`CREATE TABLE accounts(id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);
    CREATE TABLE history(id INTEGER PRIMARY KEY, account INTEGER NOT NULL, delta INTEGER NOT NULL,
      at INTEGER NOT NULL)`);
  seed.exec("BEGIN");
  const insert = seed.prepare("INSERT INTO accounts(id, balance) VALUES (?, ?)");
  for (let id = 1; id <= accounts; id++) insert.run(id, initialBalance);
  seed.exec("COMMIT");
  seed.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  seed.close();
}

// --- the two operations, per mode ---------------------------------------------------------------

const READ = "SELECT balance FROM accounts WHERE id = ?";
const UPDATE = "UPDATE accounts SET balance = ? WHERE id = ?";
const ADD = "UPDATE accounts SET balance = balance + ? WHERE id = ?";
const HISTORY = "INSERT INTO history(account, delta, at) VALUES (?, ?, ?)";

type Answer = Record<string, unknown> | undefined;
type Balance = { balance: number };

interface Service {
  read(id: number): Answer | Promise<Answer>;
  write(id: number, delta: number): Answer | Promise<Answer>;
  close(): Promise<void>;
  stats(): unknown;
}

function rawService(): Service {
  const db = openRaw(dbPath!);
  const read = db.prepare(READ);
  const update = db.prepare(UPDATE);
  const history = db.prepare(HISTORY);
  return {
    read(id) {
      const row = read.get(id) as Balance | undefined | null;
      return row ? { id, balance: row.balance } : undefined;
    },
    write(id, delta) {
      db.exec("BEGIN IMMEDIATE");
      try {
        const row = read.get(id) as Balance | undefined | null;
        if (!row) {
          db.exec("ROLLBACK");
          return undefined;
        }
        const balance = row.balance + delta;
        update.run(balance, id);
        history.run(id, delta, Date.now());
        db.exec("COMMIT");
        return { id, balance };
      } catch (error) {
        try {
          db.exec("ROLLBACK");
        } catch { /* no transaction left to roll back */ }
        throw error;
      }
    },
    close() {
      db.close();
      return Promise.resolve();
    },
    stats: () => undefined,
  };
}

function walpoolService(db: Database, style: string): Service {
  return {
    async read(id) {
      const row = await db.get<Balance>(READ, [id]);
      return row ? { id, balance: row.balance } : undefined;
    },
    write: style === "walpool-procedure"
      ? async (id, delta) => {
        const balance = await db.call<number | null>("deposit", [id, delta, Date.now()]);
        return balance === null ? undefined : { id, balance };
      }
      : style === "walpool-batch"
      ? async (id, delta) => {
        const [{ changes }] = await db.batch([
          { sql: ADD, params: [delta, id] },
          { sql: HISTORY, params: [id, delta, Date.now()] },
        ]);
        // Without a read the history row is written for a missing account too; ids are in range.
        return changes ? { id, changes } : undefined;
      }
      : (id, delta) =>
        db.transaction(async (tx) => {
          const row = await tx.get<Balance>(READ, [id]);
          if (!row) return undefined;
          const balance = row.balance + delta;
          await tx.run(UPDATE, [balance, id]);
          await tx.run(HISTORY, [id, delta, Date.now()]);
          return { id, balance };
        }),
    close: () => db.close(),
    stats: () => db.stats(),
  };
}

const service = mode === "raw" ? rawService() : walpoolService(
  await open(dbPath, {
    ...options,
    ...(mode === "walpool-procedure"
      ? { procedures: new URL("./_bank_procedures.ts", import.meta.url) }
      : {}),
  }),
  mode,
);

// --- HTTP -----------------------------------------------------------------------------------

let stopping = false;
const counts = { reads: 0, writes: 0, notFound: 0, badRequest: 0, status5xx: 0 };
const errors: Record<string, number> = {};
let firstError: string | undefined;

function send(res: ServerResponse, status: number, value: unknown): void {
  if (stopping) res.setHeader("connection", "close");
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
}

function fail(res: ServerResponse, error: unknown): void {
  const name = errorName(error);
  errors[name] = (errors[name] ?? 0) + 1;
  firstError ??= String((error as Error)?.stack ?? error);
  counts.status5xx++;
  send(res, 500, { error: name });
}

function answer(res: ServerResponse, value: Answer, counter: "reads" | "writes"): void {
  if (value === undefined) {
    counts.notFound++;
    send(res, 404, { error: "not found" });
  } else {
    counts[counter]++;
    send(res, 200, value);
  }
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://localhost");
  const id = Number(url.searchParams.get("id"));
  const delta = Number(url.searchParams.get("delta") ?? 0);
  const counter = url.pathname === "/read" && req.method === "GET"
    ? "reads"
    : url.pathname === "/write" && req.method === "POST"
    ? "writes"
    : undefined;
  if (!counter || !Number.isSafeInteger(id) || !Number.isSafeInteger(delta)) {
    counts.badRequest++;
    send(res, 400, { error: "GET /read?id=N or POST /write?id=N&delta=D" });
    return;
  }
  try {
    const value = counter === "reads" ? service.read(id) : service.write(id, delta);
    if (value instanceof Promise) {
      value.then((v) => answer(res, v, counter), (error) => fail(res, error));
    } else answer(res, value, counter);
  } catch (error) {
    fail(res, error);
  }
}

const server = createServer((req, res) => {
  // The load sends no bodies; drain anything sent so that the connection stays usable.
  req.resume();
  handle(req, res);
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  console.log(`listening ${(server.address() as AddressInfo).port}`);
});

// --- shutdown and the check of the file -------------------------------------------------------

function check(): Record<string, unknown> {
  const db = openRaw(dbPath!);
  try {
    const row = db.prepare(
      `SELECT (SELECT sum(balance) FROM accounts) AS balances, (SELECT count(*) FROM accounts) AS n,
        (SELECT coalesce(sum(delta), 0) FROM history) AS deltas,
        (SELECT count(*) FROM history) AS historyRows`,
    ).get() as { balances: number; n: number; deltas: number; historyRows: number };
    const drift = row.balances - row.n * initialBalance - row.deltas;
    return { historyRows: row.historyRows, drift, ok: drift === 0 };
  } finally {
    db.close();
  }
}

async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Never hang: whatever happens below, the process is gone in 20 s.
  setTimeout(() => {
    console.log(`result ${JSON.stringify({ error: "shutdown took over 20 s", counts })}`);
    process.exit(3);
  }, 20_000).unref?.();
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    // The load generator is gone by now; close the kept-alive connections it left.
    server.closeAllConnections?.();
  });
  let closeError: string | undefined;
  try {
    await service.close();
  } catch (error) {
    closeError = String((error as Error)?.stack ?? error);
  }
  let stats: unknown;
  try {
    stats = service.stats();
  } catch (error) {
    stats = { error: String(error) };
  }
  const file = check();
  // History rows must equal the writes answered 2xx (the batch mode answers 404 for none).
  file.ok = file.ok && file.historyRows === counts.writes;
  console.log(
    `result ${
      JSON.stringify({
        runtime: runtimeVersion(),
        driver: mode === "raw" ? rawDriver : options.driver ?? rawDriver,
        mode,
        options,
        counts,
        errors,
        firstError,
        closeError,
        file,
        stats,
      })
    }`,
  );
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
