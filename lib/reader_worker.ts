// A reader: one read-only (query_only) connection in its own worker. Each message carries the
// reads of one tick; they run in order and are answered in one message.

import {
  type Answer,
  decodeRequests,
  encodeAnswers,
  type ReadRequest,
  type ToReader,
} from "./protocol.ts";
import { answerRead, Connection } from "./_connection.ts";
import { parentPort } from "./_worker_host.ts";
import { toErrorData } from "./errors.ts";

const port = await parentPort();
let conn: Connection | undefined;

port.onMessage((message) => {
  const msg = message as ToReader;
  switch (msg.t) {
    case "init":
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
    case "close":
      conn?.close();
      port.post({ t: "closed" });
      break;
  }
});
