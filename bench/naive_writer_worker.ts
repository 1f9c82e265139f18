// Scenario (3), a naive single writer: one worker, one connection, one postMessage per request
// in each direction, and every insert committed in its own transaction (no group commit, no
// batching of messages). What walpool would be without its two optimisations.

import { errorName, openRaw, type RawDb, type RawStatement } from "./_raw.ts";
import { parentPort } from "../lib/_worker_host.ts";

export type ToNaive =
  | { t: "init"; path: string }
  | { t: "insert"; id: number; body: string }
  | { t: "close" };
export type FromNaive =
  | { t: "ready" }
  | { t: "ok"; id: number }
  | { t: "error"; id: number; code: string }
  | { t: "closed" };

const port = await parentPort();
let db: RawDb;
let insert: RawStatement;

port.onMessage((message) => {
  const msg = message as ToNaive;
  switch (msg.t) {
    case "init":
      db = openRaw(msg.path, { busyTimeout: 5000, synchronous: "NORMAL" });
      insert = db.prepare("INSERT INTO t(body) VALUES (?)");
      port.post({ t: "ready" } satisfies FromNaive);
      break;
    case "insert":
      try {
        insert.run(msg.body);
        port.post({ t: "ok", id: msg.id } satisfies FromNaive);
      } catch (error) {
        port.post({ t: "error", id: msg.id, code: errorName(error) } satisfies FromNaive);
      }
      break;
    case "close":
      db.close();
      port.post({ t: "closed" } satisfies FromNaive);
      break;
  }
});
