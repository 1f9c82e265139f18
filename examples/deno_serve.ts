// A notes API on Deno.serve, backed by walpool: the writes of the requests in flight commit
// together (group commit), reads go to two reader workers, and the event loop never waits.
//
//   deno run --allow-net=127.0.0.1 --allow-env --allow-read=. --allow-write=. \
//     examples/deno_serve.ts
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

import { open } from "../mod.ts";

const db = await open(Deno.env.get("DB_PATH") ?? "notes.db", { readers: 2 });
await db.exec(`CREATE TABLE IF NOT EXISTS notes(
  id INTEGER PRIMARY KEY, body TEXT NOT NULL, likes INTEGER NOT NULL DEFAULT 0)`);

const notFound = () => Response.json({ error: "not found" }, { status: 404 });

async function handle(req: Request): Promise<Response> {
  const path = new URL(req.url).pathname;
  const [, id, like] = /^\/notes\/(\d+)(\/like)?$/.exec(path) ?? [];
  if (path === "/notes" && req.method === "POST") {
    const body = (await req.json().catch(() => null))?.body;
    if (typeof body !== "string" || body === "") {
      return Response.json({ error: 'send {"body": "some text"}' }, { status: 400 });
    }
    const { lastInsertRowid } = await db.run("INSERT INTO notes(body) VALUES (?)", [body]);
    return Response.json({ id: lastInsertRowid }, { status: 201 });
  }
  if (path === "/notes" && req.method === "GET") {
    return Response.json(await db.all("SELECT * FROM notes ORDER BY id"));
  }
  if (id && !like && req.method === "GET") {
    const note = await db.get("SELECT * FROM notes WHERE id = ?", [Number(id)]);
    return note ? Response.json(note) : notFound();
  }
  if (id && like && req.method === "POST") {
    // Read, then write, with no other write in between: the transaction holds the writer.
    const likes = await db.transaction(async (tx) => {
      const note = await tx.get<{ likes: number }>("SELECT likes FROM notes WHERE id = ?", [+id]);
      if (!note) return undefined;
      await tx.run("UPDATE notes SET likes = ? WHERE id = ?", [note.likes + 1, +id]);
      return note.likes + 1;
    });
    return likes === undefined ? notFound() : Response.json({ likes });
  }
  if (path === "/stats" && req.method === "GET") return Response.json(db.stats());
  if (path === "/metrics" && req.method === "GET") {
    return new Response(db.metrics(), {
      headers: { "content-type": "text/plain; version=0.0.4" },
    });
  }
  return notFound();
}

const server = Deno.serve({
  hostname: "127.0.0.1",
  port: Number(Deno.env.get("PORT") ?? 8000),
  onListen: ({ hostname, port }) => console.log(`listening on http://${hostname}:${port}`),
}, handle);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await server.shutdown(); // answers the requests in flight, takes no new ones
  await db.close(); // commits every write accepted
  Deno.exit(0);
}
Deno.addSignalListener("SIGINT", stop);
if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", stop);
