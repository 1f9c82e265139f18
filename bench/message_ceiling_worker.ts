// The worker of bench/message_ceiling.ts: answers each message of requests at once, in the
// shape it was asked for, and with `insert` also commits the rows in one transaction first.

import { openRaw, type RawDb, type RawStatement } from "./_raw.ts";
import { parentPort } from "../lib/_worker_host.ts";

/** Requests as walpool sends them today: one object per request, the SQL text in each. */
export interface ObjectRequests {
  t: "objects";
  reqs: { id: number; kind: "run"; sql: string; params: unknown[] }[];
}
/** The same requests, compact: the SQL texts once, the parameters in one array. */
export interface CompactRequests {
  t: "compact";
  first: number;
  sqls: string[];
  sql: number[];
  params: unknown[][];
  /** The most requests one commit (and one answer message) carries. */
  chunk: number;
}
export type ToCeiling =
  | { t: "open"; path: string }
  | ObjectRequests
  | CompactRequests;

const port = await parentPort();
let db: RawDb | undefined;
let insert: RawStatement | undefined;
let rowid = 0;

port.onMessage((message) => {
  const msg = message as ToCeiling;
  if (msg.t === "open") {
    db = openRaw(msg.path);
    db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
    insert = db.prepare("INSERT INTO t(body) VALUES (?)");
    port.post({ t: "opened" });
  } else if (msg.t === "objects") {
    db?.exec("BEGIN IMMEDIATE");
    const answers = msg.reqs.map((r) => {
      if (insert) insert.run(...r.params);
      return { id: r.id, value: { changes: 1, lastInsertRowid: ++rowid } };
    });
    db?.exec("COMMIT");
    port.post({ t: "answers", answers });
  } else {
    // In commits of at most `chunk` requests, each answered as soon as it is committed, so that
    // the main thread handles one part's answers while this thread commits the next.
    const n = msg.params.length;
    const size = msg.chunk;
    for (let from = 0; from < n; from += size) {
      const to = Math.min(n, from + size);
      db?.exec("BEGIN IMMEDIATE");
      // Results as numbers in one buffer: changes and lastInsertRowid of each request.
      const results = new Float64Array(2 * (to - from));
      for (let i = from; i < to; i++) {
        if (insert) insert.run(...msg.params[i]);
        results[2 * (i - from)] = 1;
        results[2 * (i - from) + 1] = ++rowid;
      }
      db?.exec("COMMIT");
      port.post({ t: "results", first: msg.first + from, results }, [results.buffer]);
    }
  }
});
