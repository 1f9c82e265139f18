// A notes API on Bun.serve (routes), backed by walpool: the writes of the requests in flight
// commit together (group commit), reads go to two reader workers, the event loop never waits.
//
//   bun examples/bun_serve.ts
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

// The part of Bun's API used here, so that the file type-checks without bun-types.
type Handler = (req: Request & { params: Record<string, string> }) => Promise<Response>;
declare const Bun: {
  serve(options: {
    hostname: string;
    port: number;
    routes: Record<string, Record<string, Handler>>;
    fetch(req: Request): Response;
  }): { hostname: string; port: number; stop(): Promise<void> };
};

const db = await open(process.env.DB_PATH ?? "notes.db", { readers: 2 });
await db.exec(`CREATE TABLE IF NOT EXISTS notes(
  id INTEGER PRIMARY KEY, body TEXT NOT NULL, likes INTEGER NOT NULL DEFAULT 0)`);

const notFound = () => Response.json({ error: "not found" }, { status: 404 });
const idOf = (s: string) => /^\d+$/.test(s) ? Number(s) : 0; // 0 is never a note's id

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT ?? 8000),
  routes: {
    "/notes": {
      GET: async () => Response.json(await db.all("SELECT * FROM notes ORDER BY id")),
      POST: async (req) => {
        const body = (await req.json().catch(() => null))?.body;
        if (typeof body !== "string" || body === "") {
          return Response.json({ error: 'send {"body": "some text"}' }, { status: 400 });
        }
        const { lastInsertRowid } = await db.run("INSERT INTO notes(body) VALUES (?)", [body]);
        return Response.json({ id: lastInsertRowid }, { status: 201 });
      },
    },
    "/notes/:id": {
      GET: async (req) => {
        const note = await db.get("SELECT * FROM notes WHERE id = ?", [idOf(req.params.id)]);
        return note ? Response.json(note) : notFound();
      },
    },
    "/notes/:id/like": {
      // Read, then write, with no other write in between: the transaction holds the writer.
      POST: async (req) => {
        const id = idOf(req.params.id);
        const likes = await db.transaction(async (tx) => {
          const note = await tx.get<{ likes: number }>("SELECT likes FROM notes WHERE id = ?", [
            id,
          ]);
          if (!note) return undefined;
          await tx.run("UPDATE notes SET likes = ? WHERE id = ?", [note.likes + 1, id]);
          return note.likes + 1;
        });
        return likes === undefined ? notFound() : Response.json({ likes });
      },
    },
    "/stats": { GET: () => Promise.resolve(Response.json(db.stats())) },
    "/metrics": {
      GET: () =>
        Promise.resolve(
          new Response(db.metrics(), { headers: { "content-type": "text/plain; version=0.0.4" } }),
        ),
    },
  },
  fetch: notFound,
});
console.log(`listening on http://${server.hostname}:${server.port}`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await server.stop(); // answers the requests in flight, takes no new ones
  await db.close(); // commits every write accepted
  process.exit(0);
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
