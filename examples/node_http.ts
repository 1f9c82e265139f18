// A notes API on Node's http module, backed by walpool: the writes of the requests in flight
// commit together (group commit), reads go to two reader workers, the event loop never waits.
//
//   node examples/node_http.ts    (Node 22.18+ strips the types; Bun and `deno run -A` run it too)
//
// PORT (default 8000, 0 = any free port) and DB_PATH (default notes.db) come from the
// environment. Ctrl-C or SIGTERM answers the requests in flight, closes the database and exits.
//
//   curl -d '{"body":"hi"}' localhost:8000/notes   201 {"id":1}
//   curl localhost:8000/notes                      200 [{"id":1,"body":"hi","likes":0}]
//   curl localhost:8000/notes/1                    200 {"id":1,…} or 404
//   curl -X POST localhost:8000/notes/1/like       200 {"likes":1} (an interactive transaction)
//   curl localhost:8000/stats                      200 walpool's counters
//   curl localhost:8000/metrics                    200 the same for Prometheus (text format)

import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import process from "node:process";
import { open } from "../mod.ts";

const db = await open(process.env.DB_PATH ?? "notes.db", { readers: 2 });
await db.exec(`CREATE TABLE IF NOT EXISTS notes(
  id INTEGER PRIMARY KEY, body TEXT NOT NULL, likes INTEGER NOT NULL DEFAULT 0)`);

async function bodyOf(req: IncomingMessage): Promise<unknown> {
  let text = "";
  for await (const chunk of req.setEncoding("utf8")) text += chunk;
  try {
    return JSON.parse(text)?.body;
  } catch {
    return undefined;
  }
}

const notFound: [number, unknown] = [404, { error: "not found" }];

async function handle(req: IncomingMessage): Promise<[number, unknown]> {
  const path = new URL(req.url ?? "/", "http://localhost").pathname;
  const [, id, like] = /^\/notes\/(\d+)(\/like)?$/.exec(path) ?? [];
  if (path === "/notes" && req.method === "POST") {
    const body = await bodyOf(req);
    if (typeof body !== "string" || body === "") {
      return [400, { error: 'send {"body": "some text"}' }];
    }
    const { lastInsertRowid } = await db.run("INSERT INTO notes(body) VALUES (?)", [body]);
    return [201, { id: lastInsertRowid }];
  }
  if (path === "/notes" && req.method === "GET") {
    return [200, await db.all("SELECT * FROM notes ORDER BY id")];
  }
  if (id && !like && req.method === "GET") {
    const note = await db.get("SELECT * FROM notes WHERE id = ?", [Number(id)]);
    return note ? [200, note] : notFound;
  }
  if (id && like && req.method === "POST") {
    // Read, then write, with no other write in between: the transaction holds the writer.
    const likes = await db.transaction(async (tx) => {
      const note = await tx.get<{ likes: number }>("SELECT likes FROM notes WHERE id = ?", [+id]);
      if (!note) return undefined;
      await tx.run("UPDATE notes SET likes = ? WHERE id = ?", [note.likes + 1, +id]);
      return note.likes + 1;
    });
    return likes === undefined ? notFound : [200, { likes }];
  }
  if (path === "/stats" && req.method === "GET") return [200, db.stats()];
  return notFound;
}

let stopping = false;
const server = createServer(async (req, res) => {
  if (req.url === "/metrics" && req.method === "GET") {
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(db.metrics());
    return;
  }
  const [status, value] = await handle(req).catch((error): [number, unknown] => {
    console.error(error);
    return [500, { error: "internal error" }];
  });
  // Once stopping, a kept-alive connection is closed after its answer, so that it ends.
  if (stopping) res.setHeader("connection", "close");
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
});
server.listen(Number(process.env.PORT ?? 8000), "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});

function stop() {
  if (stopping) return;
  stopping = true;
  // Takes no new connections; the callback runs once the requests in flight are answered.
  server.close(async () => {
    await db.close(); // commits every write accepted
    process.exit(0);
  });
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
