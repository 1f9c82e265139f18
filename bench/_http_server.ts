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
// Servers (--server): `node` (default) is node:http on every runtime; `native` is the runtime's own
// server, Deno.serve on Deno and Bun.serve on Bun (node:http on Node, which has no other).
//
// Modes: `raw` is the runtime's own binding used synchronously on the main thread (node:sqlite on
// Deno and Node, bun:sqlite on Bun; bench/_raw.ts's openRaw: WAL, synchronous=NORMAL, busy_timeout
// 5000), prepared statements reused, the write as BEGIN IMMEDIATE…COMMIT. `raw-callback` is the same
// binding with the write written as walpool's users write it, an async callback awaiting each
// statement (`transaction(async (tx) => { await tx.get(…); await tx.run(…); … })`, each statement
// run synchronously and handed back as a resolved promise): what that shape costs by itself, with
// no library in between. `raw-async` is `raw-callback` with the read awaited too (an async function
// awaiting the row read synchronously), as `await db.get(…)` is: the whole shape of walpool's API,
// reads included. `walpool` is walpool with
// default options (plus --options, a JSON object of open options), written the natural way:
// db.get() for reads, db.transaction() for the read-then-write. `walpool-procedure` runs the same
// read-then-write as a write procedure (bench/_bank_procedures.ts, db.call()). `walpool-batch` writes with
// db.batch([UPDATE, INSERT]) instead (no read; answers {"id":N,"changes":1}).
//
// Before listening it creates and seeds the file (10 000 accounts of balance 1000, unless
// --accounts=N) when the file is new. Then it prints `listening <port>` (127.0.0.1, a free port).
// On SIGTERM/SIGINT it stops taking connections, closes the database (walpool commits every write
// it accepted), checks the file (sum of balances minus the seed = sum of history deltas; history
// rows = writes answered 2xx) and prints one line `result <json>` with its counters and the CPU
// time the process used (every thread) from listening to SIGTERM, then exits 0.

import { createServer, type ServerResponse } from "node:http";
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
const serverKind = flag("server") ?? "node";
if (serverKind !== "node" && serverKind !== "native") {
  throw new TypeError(`--server must be node or native, not ${serverKind}`);
}
const dbPath = flag("db");
const accounts = Number(flag("accounts") ?? 10_000);
const initialBalance = 1000;
const modes = ["raw", "raw-callback", "raw-async", "walpool", "walpool-batch", "walpool-procedure"];
if (!modes.includes(mode)) {
  throw new TypeError(
    `--mode must be one of ${modes.join(", ")}, not ${mode}`,
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

/** The statements a `raw-callback` transaction's callback gets: each run now, its result awaited. */
interface RawTx {
  get(sql: string, params: number[]): Promise<unknown>;
  run(sql: string, params: number[]): Promise<unknown>;
}

function rawCallbackService(): Service {
  const db = openRaw(dbPath!);
  const statements = new Map<string, ReturnType<typeof db.prepare>>();
  const statement = (sql: string) => {
    let stmt = statements.get(sql);
    if (!stmt) statements.set(sql, stmt = db.prepare(sql));
    return stmt;
  };
  const tx: RawTx = {
    get: (sql, params) => Promise.resolve(statement(sql).get(...params)),
    run: (sql, params) => Promise.resolve(statement(sql).run(...params)),
  };
  // One transaction at a time: the connection has one, and a callback that awaits lets other
  // requests in (on Deno's node:http another request's BEGIN then fails: "cannot start a
  // transaction within a transaction"). The next waits for the one before to end.
  let last: Promise<unknown> = Promise.resolve();
  let unfinished = 0; // begun or waiting for their turn
  async function run<T>(fn: (tx: RawTx) => Promise<T>): Promise<T> {
    db.exec("BEGIN IMMEDIATE");
    try {
      const value = await fn(tx);
      db.exec("COMMIT");
      return value;
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  }
  function transaction<T>(fn: (tx: RawTx) => Promise<T>): Promise<T> {
    const turn = unfinished++ ? last.then(() => run(fn)) : run(fn);
    last = turn.then(() => unfinished--, () => unfinished--);
    return turn;
  }
  return {
    read(id) {
      const row = statement(READ).get(id) as Balance | undefined | null;
      return row ? { id, balance: row.balance } : undefined;
    },
    write: (id, delta) =>
      transaction(async (tx) => {
        const row = await tx.get(READ, [id]) as Balance | undefined | null;
        if (!row) return undefined;
        const balance = row.balance + delta;
        await tx.run(UPDATE, [balance, id]);
        await tx.run(HISTORY, [id, delta, Date.now()]);
        return { id, balance };
      }),
    close() {
      db.close();
      return Promise.resolve();
    },
    stats: () => undefined,
  };
}

/** `service` with its read made an async function that awaits the row (`raw-async`). */
function awaitedReads(service: Service): Service {
  const read = service.read;
  return { ...service, read: async (id) => await read(id) };
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

const service = mode === "raw"
  ? rawService()
  : mode === "raw-callback"
  ? rawCallbackService()
  : mode === "raw-async"
  ? awaitedReads(rawCallbackService())
  : walpoolService(
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

/** An answer: its status and the JSON body. */
interface Reply {
  status: number;
  body: unknown;
}

function failed(error: unknown): Reply {
  const name = errorName(error);
  errors[name] = (errors[name] ?? 0) + 1;
  firstError ??= String((error as Error)?.stack ?? error);
  counts.status5xx++;
  return { status: 500, body: { error: name } };
}

function answered(value: Answer, counter: "reads" | "writes"): Reply {
  if (value === undefined) {
    counts.notFound++;
    return { status: 404, body: { error: "not found" } };
  }
  counts[counter]++;
  return { status: 200, body: value };
}

/** The answer to a request, whichever server took it: at once when the service answered at once. */
function respond(method: string, target: string): Reply | Promise<Reply> {
  const url = new URL(target, "http://localhost");
  const id = Number(url.searchParams.get("id"));
  const delta = Number(url.searchParams.get("delta") ?? 0);
  const counter = url.pathname === "/read" && method === "GET"
    ? "reads"
    : url.pathname === "/write" && method === "POST"
    ? "writes"
    : undefined;
  if (!counter || !Number.isSafeInteger(id) || !Number.isSafeInteger(delta)) {
    counts.badRequest++;
    return { status: 400, body: { error: "GET /read?id=N or POST /write?id=N&delta=D" } };
  }
  try {
    const value = counter === "reads" ? service.read(id) : service.write(id, delta);
    if (value instanceof Promise) return value.then((v) => answered(v, counter), failed);
    return answered(value, counter);
  } catch (error) {
    return failed(error);
  }
}

/** The runtime's own server, where it has one (--server=native). */
interface Native {
  /** Stops taking connections and closes those kept alive. */
  stop(): Promise<void>;
}

type FetchHandler = (request: Request) => Response | Promise<Response>;
const runtimeGlobals = globalThis as {
  Deno?: {
    serve(
      options: { port: number; hostname: string; onListen(addr: { port: number }): void },
      handler: FetchHandler,
    ): { shutdown(): Promise<void> };
  };
  Bun?: {
    serve(options: { port: number; hostname: string; fetch: FetchHandler }): {
      port: number;
      stop(closeActive: boolean): Promise<void> | void;
    };
  };
};

function fetchHandler(request: Request): Response | Promise<Response> {
  const reply = respond(request.method, request.url);
  const toResponse = (r: Reply) => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (stopping) headers.connection = "close";
    return new Response(JSON.stringify(r.body), { status: r.status, headers });
  };
  return reply instanceof Promise ? reply.then(toResponse) : toResponse(reply);
}

function nativeServer(): Native | undefined {
  if (serverKind !== "native") return undefined;
  const { Deno, Bun } = runtimeGlobals;
  if (Deno) {
    const server = Deno.serve({
      port: 0,
      hostname: "127.0.0.1",
      onListen: ({ port }) => console.log(`listening ${port}`),
    }, fetchHandler);
    return { stop: () => server.shutdown() };
  }
  if (Bun) {
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: fetchHandler });
    console.log(`listening ${server.port}`);
    return { stop: async () => void await server.stop(true) };
  }
  return undefined; // Node has no server of its own but node:http
}

function send(res: ServerResponse, reply: Reply): void {
  if (stopping) res.setHeader("connection", "close");
  res.writeHead(reply.status, { "content-type": "application/json" })
    .end(JSON.stringify(reply.body));
}

let cpuAtListen = process.cpuUsage();
const native = nativeServer();
const server = native ? undefined : createServer((req, res) => {
  // The load sends no bodies; drain anything sent so that the connection stays usable.
  req.resume();
  const reply = respond(req.method ?? "GET", req.url ?? "/");
  if (reply instanceof Promise) reply.then((r) => send(res, r));
  else send(res, reply);
});
if (server) {
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => {
    cpuAtListen = process.cpuUsage();
    console.log(`listening ${(server.address() as AddressInfo).port}`);
  });
}

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
  const cpu = process.cpuUsage(cpuAtListen);
  if (server) {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // The load generator is gone by now; close the kept-alive connections it left.
      server.closeAllConnections?.();
    });
  } else await native!.stop();
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
        server: server ? "node:http" : runtimeGlobals.Deno ? "Deno.serve" : "Bun.serve",
        driver: mode.startsWith("raw") ? rawDriver : options.driver ?? rawDriver,
        mode,
        cpuMs: { user: cpu.user / 1000, system: cpu.system / 1000 },
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
