// A reader: one read-only (query_only) connection in its own worker. Each message carries the
// reads of one tick; they run in order and are answered in one message. Streams
// (`Database.iterate`) each get a connection of their own, so that a cursor's long read
// transaction never holds back what the other reads see; it is kept for the next stream.

import {
  type Answer,
  decodeRequests,
  encodeAnswers,
  type ReadRequest,
  type ToReader,
} from "./protocol.ts";
import { answerRead, Connection, type Cursor } from "./_connection.ts";
import { parentPort } from "./_worker_host.ts";
import { toErrorData } from "./errors.ts";

const port = await parentPort();
let conn: Connection | undefined;
let config: ToReader & { t: "init" };
/** Open streams, by id: the cursor (once open), its connection, the chunk size. */
const streams = new Map<number, { cursor?: Cursor; conn?: Connection; chunk: number }>();
/** Connections of ended streams, for the next ones. */
const spare: Connection[] = [];
/** Each stream's messages run in order, after its connection is open. */
let queue: Promise<void> = Promise.resolve();

/** Sends the next chunk of a stream; ends it when done or failed. */
function sendChunk(id: number): void {
  const s = streams.get(id);
  if (!s?.cursor) return;
  try {
    const rows = s.cursor.read(s.chunk);
    const done = s.cursor.done;
    port.post({ t: "rows", id, rows, done });
    if (done) endStream(id);
  } catch (error) {
    port.post({
      t: "rows",
      id,
      rows: [],
      done: true,
      error: toErrorData(error, conn!.driver, true),
    });
    endStream(id);
  }
}

function endStream(id: number): void {
  const s = streams.get(id);
  if (!s) return;
  streams.delete(id);
  s.cursor?.close();
  if (s.conn) spare.push(s.conn);
}

async function openStream(msg: ToReader & { t: "iterate" }): Promise<void> {
  const s = { chunk: msg.chunk } as { cursor?: Cursor; conn?: Connection; chunk: number };
  streams.set(msg.id, s);
  try {
    s.conn = spare.pop() ?? await Connection.open(config.config);
    if (!streams.has(msg.id)) return void spare.push(s.conn); // stopped meanwhile
    s.cursor = s.conn.cursor(msg.sql, msg.params);
  } catch (error) {
    port.post({
      t: "rows",
      id: msg.id,
      rows: [],
      done: true,
      error: toErrorData(error, conn?.driver, true),
    });
    endStream(msg.id);
    return;
  }
  sendChunk(msg.id);
}

port.onMessage((message) => {
  const msg = message as ToReader;
  switch (msg.t) {
    case "init":
      config = msg;
      Connection.open(msg.config).then((c) => {
        conn = c;
        port.post({ t: "ready" });
      }, (error) => port.post({ t: "failed", error: toErrorData(error) }));
      break;
    case "read": {
      const reqs = decodeRequests<ReadRequest>(msg.batch);
      const answers: Answer[] = [];
      // What each read cost, for the calling thread's routing (the longest per SQL text).
      const costs: Record<string, number> = Object.create(null);
      const began = performance.now();
      let last = began;
      for (const req of reqs) {
        answers.push(answerRead(conn!, req));
        const now = performance.now();
        if (!(costs[req.sql] >= now - last)) costs[req.sql] = now - last;
        last = now;
      }
      port.post({ t: "answers", batch: encodeAnswers(answers), ms: last - began, costs });
      break;
    }
    case "iterate":
      queue = queue.then(() => openStream(msg));
      break;
    case "more":
      queue = queue.then(() => sendChunk(msg.id));
      break;
    case "stop":
      queue = queue.then(() => endStream(msg.id));
      break;
    case "close":
      queue = queue.then(() => {
        for (const id of [...streams.keys()]) endStream(id);
        for (const c of spare.splice(0)) c.close();
        conn?.close();
        port.post({ t: "closed" });
      });
      break;
  }
});
