// Scenario (3), the usual alternative to a single writer: N workers, each with its own connection
// to the same file (busy_timeout = 5000), each committing every insert in its own transaction.
// Every failure is counted by kind; SQLITE_BUSY is what busy_timeout was meant to prevent.
//
// mode "insert": one autocommit INSERT per transaction.
// mode "read-then-write": BEGIN; SELECT; INSERT; COMMIT (a deferred transaction that reads first,
// the shape of most application transactions).

import { body, errorName, openRaw, type RawDb, type RawStatement } from "./_raw.ts";
import { parentPort } from "../lib/_worker_host.ts";

export type ToWorker =
  | { t: "init"; path: string; first: number; rows: number; mode: "insert" | "read-then-write" }
  | { t: "go" };
export type FromWorker =
  | { t: "ready" }
  | { t: "done"; inserted: number; failures: Record<string, number>; ms: number };

const port = await parentPort();
let db: RawDb;
let insert: RawStatement;
let read: RawStatement;
let job: Extract<ToWorker, { t: "init" }>;

port.onMessage((message) => {
  const msg = message as ToWorker;
  if (msg.t === "init") {
    job = msg;
    db = openRaw(msg.path, { busyTimeout: 5000, synchronous: "NORMAL" });
    insert = db.prepare("INSERT INTO t(body) VALUES (?)");
    read = db.prepare("SELECT max(id) AS m FROM t");
    port.post({ t: "ready" } satisfies FromWorker);
  } else {
    const started = performance.now();
    let inserted = 0;
    const failures: Record<string, number> = {};
    for (let i = job.first; i < job.first + job.rows; i++) {
      try {
        if (job.mode === "insert") {
          insert.run(body(i));
        } else {
          db.exec("BEGIN");
          read.get();
          insert.run(body(i));
          db.exec("COMMIT");
        }
        inserted++;
      } catch (error) {
        const name = errorName(error);
        failures[name] = (failures[name] ?? 0) + 1;
        try {
          db.exec("ROLLBACK");
        } catch { /* no transaction was open */ }
      }
    }
    db.close();
    const ms = performance.now() - started;
    port.post({ t: "done", inserted, failures, ms } satisfies FromWorker);
  }
});
