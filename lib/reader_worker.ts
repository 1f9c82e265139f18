// A reader: one read-only (query_only) connection in its own worker. Each message carries the
// reads of one tick; they run in order and are answered in one message.

import { decodeRequests, encodeAnswers, type ReadRequest, type ToReader } from "./protocol.ts";
import { answerReads, Connection } from "./_connection.ts";
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
      const began = performance.now();
      const answers = answerReads(conn!, decodeRequests<ReadRequest>(msg.batch));
      port.post({ t: "answers", batch: encodeAnswers(answers), ms: performance.now() - began });
      break;
    }
    case "close":
      conn?.close();
      port.post({ t: "closed" });
      break;
  }
});
