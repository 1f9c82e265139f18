// The remote engine against a real libSQL server (sqld): what only a remote database does (one
// request per group, the server's refusals isolated, its transaction limit, authToken) and its
// faults (server killed, stopped or unreachable; client killed; two clients at once). The API
// contract itself runs against sqld in sqld_conformance_test.ts.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { type Database, open, RemoteError, SqliteError, TransactionError } from "../mod.ts";
import { runtimeCommand, settle, sleep, within } from "./_helpers.ts";
import { Sqld, sqldAvailable } from "./_sqld.ts";

const available = sqldAvailable();
if (available !== true) console.log(`# skipping the remote tests: ${available}`);

/** Runs `_remote_child.ts` against `url`; resolves with its output lines once it exits. */
function child(url: string, tag: string, count: number) {
  const [cmd, args] = runtimeCommand(
    fileURLToPath(new URL("./_remote_child.ts", import.meta.url)),
    url,
    tag,
    String(count),
  );
  const proc = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"] });
  const lines: string[] = [];
  let partial = "";
  proc.stdout!.on("data", (d) => {
    const parts = (partial + d).split("\n");
    partial = parts.pop()!;
    lines.push(...parts);
  });
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  return { proc, lines, exited };
}

const acked = (lines: string[]) =>
  lines.filter((l) => l.startsWith("ack ")).map((l) => Number(l.slice(4)));

describe("remote database (sqld)", { skip: available === true ? false : available }, () => {
  let server: Sqld;
  before(async () => {
    server = await Sqld.start();
  });
  after(async () => {
    await server?.stop();
  });

  /** A database on the server with a fresh table `name`. */
  async function table(name: string, more = {}): Promise<Database> {
    const db = await open(server.url, { requestTimeout: 5000, ...more });
    await db.exec(
      `DROP TABLE IF EXISTS ${name}; CREATE TABLE ${name}(id INTEGER PRIMARY KEY, v UNIQUE)`,
    );
    return db;
  }

  it("commits 500 concurrent writes in a few requests, each resolved after its commit", async () => {
    const db = await table("burst");
    try {
      const results = await Promise.all(
        Array.from({ length: 500 }, (_, i) => db.run("INSERT INTO burst(v) VALUES (?)", [i])),
      );
      assert.equal(results.length, 500);
      assert.deepEqual(await db.get("SELECT count(*) AS n FROM burst"), { n: 500 });
      const { commits, committedRequests, largestCommit } = db.stats();
      assert.ok(commits <= 20, `500 writes took ${commits} commits`);
      assert.ok(committedRequests >= 500 && largestCommit >= 25);
    } finally {
      await db.close();
    }
  });

  it("fails alone a statement the server refuses to parse, which makes it refuse the whole batch", async () => {
    const db = await table("parse");
    try {
      const calls = [
        db.run("INSERT INTO parse(v) VALUES ('a')"),
        db.run("INSERT INTO parse(v) VALUES ('b') ON CONFLICT DO NOTHING RETURNIN v"),
        db.run("INSERT INTO parse(v) VALUES ('c')"),
        db.exec("INSERT INTO parse(v) VALUES ('d'); INSERT INTO parse(v) VALUES ('e')"),
      ];
      const [a, bad, c, de] = await Promise.allSettled(calls);
      assert.equal(a.status, "fulfilled");
      assert.equal(c.status, "fulfilled");
      assert.equal(de.status, "fulfilled");
      assert.equal(bad.status, "rejected");
      assert.ok((bad as PromiseRejectedResult).reason instanceof SqliteError);
      assert.deepEqual(
        (await db.values("SELECT v FROM parse ORDER BY id")).flat(),
        ["a", "c", "d", "e"],
      );
      // One that describe accepts but a batch step refuses: each request is then tried alone.
      const [f, two, g] = await Promise.allSettled([
        db.run("INSERT INTO parse(v) VALUES ('f')"),
        db.run("INSERT INTO parse(v) VALUES ('x'); INSERT INTO parse(v) VALUES ('y')"),
        db.run("INSERT INTO parse(v) VALUES ('g')"),
      ]);
      assert.equal(f.status, "fulfilled");
      assert.equal(g.status, "fulfilled");
      assert.match((two as PromiseRejectedResult).reason.message, /more than one statement/);
      assert.deepEqual(
        (await db.values("SELECT v FROM parse WHERE id > 4 ORDER BY id")).flat(),
        ["f", "g"],
      );
    } finally {
      await db.close();
    }
  });

  it("isolates a refused batch without failing a request that needs an earlier one of the group", async () => {
    const db = await open(server.url);
    try {
      await db.exec("DROP TABLE IF EXISTS later");
      const [create, insert, bad] = await Promise.allSettled([
        db.exec("CREATE TABLE later(x)"),
        db.run("INSERT INTO later VALUES (1)"),
        db.run("INSER INTO later VALUES (2)"),
      ]);
      assert.equal(create.status, "fulfilled");
      assert.equal(insert.status, "fulfilled", String((insert as PromiseRejectedResult).reason));
      assert.equal(bad.status, "rejected");
      assert.deepEqual(await db.values("SELECT x FROM later"), [[1]]);
    } finally {
      await db.close();
    }
  });

  it("a transaction whose first statement fails before it runs goes on and commits", async () => {
    const db = await table("first");
    try {
      await db.transaction(async (tx) => {
        await assert.rejects(tx.run("INSERT INTO first(v) VALUES (?)", [NaN]), RangeError);
        await assert.rejects(tx.run("INSER INTO first(v) VALUES (1)"), SqliteError);
        await tx.run("INSERT INTO first(v) VALUES (2)");
      });
      assert.deepEqual(await db.values("SELECT v FROM first"), [[2]]);
    } finally {
      await db.close();
    }
  });

  it("splits exec text into statements, keeping a trigger's body whole", async () => {
    const db = await table("trig");
    try {
      await db.exec(`
        CREATE TABLE IF NOT EXISTS audit(v);
        -- a comment; with a semicolon
        CREATE TRIGGER trig_audit AFTER INSERT ON trig BEGIN
          INSERT INTO audit(v) VALUES (new.v || ';');
          INSERT INTO audit(v) VALUES (CASE WHEN new.v = 'x' THEN 'is x' ELSE 'not x' END);
        END;
        INSERT INTO trig(v) VALUES ('x');
      `);
      assert.deepEqual((await db.values("SELECT v FROM audit ORDER BY rowid")).flat(), [
        "x;",
        "is x",
      ]);
      await db.exec("DROP TABLE audit");
    } finally {
      await db.close();
    }
  });

  it("refuses a transactionTimeout beyond sqld's 5 s and options that act on files only", async () => {
    await assert.rejects(open(server.url, { transactionTimeout: 6000 }), RangeError);
    for (const opts of [{ driver: "node:sqlite" }, { durability: "full" }, { pragmas: { a: 1 } }]) {
      await assert.rejects(open(server.url, opts as never), /does not apply to a remote database/);
    }
    await assert.rejects(open("app.db", { authToken: "x" }), /is for a remote database/);
    await assert.rejects(open("libsql://127.0.0.1?secret=1"), /Unsupported parameter "secret"/);
  });

  it("rolls a transaction back at its timeout, and refuses db writes inside it", async () => {
    const db = await table("txt", { transactionTimeout: 300 });
    try {
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.run("INSERT INTO txt(v) VALUES (1)");
          await assert.rejects(db.run("INSERT INTO txt(v) VALUES (2)"), TransactionError);
          await sleep(600);
        }),
        (e: Error) => e.name === "TimeoutError",
      );
      assert.deepEqual(await db.get("SELECT count(*) AS n FROM txt"), { n: 0 });
      await db.run("INSERT INTO txt(v) VALUES (3)"); // the writer is free again
      assert.deepEqual(await db.get("SELECT count(*) AS n FROM txt"), { n: 1 });
    } finally {
      await db.close();
    }
  });

  it("rejects db.call() with TypeError: procedures need the local writer", async () => {
    const db = await open(server.url);
    try {
      await assert.rejects(db.call("anything"), /a remote database has none/);
    } finally {
      await db.close();
    }
  });

  it("commits every accepted write on close()", async () => {
    const db = await table("closing");
    const calls = Array.from(
      { length: 300 },
      (_, i) => db.run("INSERT INTO closing(v) VALUES (?)", [i]),
    );
    await db.close();
    const { errors } = await settle(calls);
    assert.deepEqual(errors, []);
    const again = await open(server.url);
    try {
      assert.deepEqual(await again.get("SELECT count(*) AS n FROM closing"), { n: 300 });
    } finally {
      await again.close();
    }
  });

  it("an answer that is not the server's (a proxy's page) is a RemoteError that may have applied", async () => {
    const http = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<html>hello</html>");
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
    const { port } = http.address() as { port: number };
    try {
      await assert.rejects(
        open(`http://127.0.0.1:${port}`),
        (e: unknown) => e instanceof RemoteError && e.mayHaveApplied,
      );
    } finally {
      http.close();
    }
  });

  it("sends authToken as a bearer token; a refused request is a RemoteError with its status", async () => {
    let seen: string | undefined;
    const http = createServer((req, res) => {
      seen = req.headers.authorization;
      req.resume();
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "Unauthorized" }));
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
    const { port } = http.address() as { port: number };
    try {
      await assert.rejects(
        open(`http://127.0.0.1:${port}`, { authToken: "secret-token" }),
        (e: unknown) =>
          e instanceof RemoteError && e.status === 401 && !e.mayHaveApplied &&
          /Unauthorized/.test(e.message),
      );
      assert.equal(seen, "Bearer secret-token");
    } finally {
      http.close();
    }
  });

  describe("faults", () => {
    it("kill -9 of sqld under 64 writers: every call settles, every acknowledged write is there, and the same db goes on once sqld is back", async () => {
      const db = await table("crash", { requestTimeout: 3000 });
      try {
        const acks: number[] = [];
        const failures: Error[] = [];
        let next = 0;
        let stop = false;
        const writers = Array.from({ length: 64 }, async () => {
          while (!stop) {
            const n = next++;
            try {
              await db.run("INSERT INTO crash(v) VALUES (?)", [n]);
              acks.push(n);
            } catch (error) {
              failures.push(error as Error);
              await sleep(20);
            }
          }
        });
        while (acks.length < 500) await sleep(5);
        await server.signal("SIGKILL");
        // In-flight requests fail with an unknown outcome; once the pooled connections are gone,
        // new ones are refused: not applied.
        await within(
          (async () => {
            while (!failures.some((e) => e instanceof RemoteError && !e.mayHaveApplied)) {
              await sleep(5);
            }
          })(),
          10_000,
          "a write refused as unreachable",
        );
        stop = true;
        await within(Promise.all(writers), 10_000, "every write call to settle");
        for (const error of failures) {
          assert.ok(error instanceof RemoteError, `not a RemoteError: ${error}`);
        }
        assert.ok(
          failures.some((e) => !(e as RemoteError).mayHaveApplied),
          "unreachable: not applied",
        );
        await server.restart();
        const present = new Set(
          (await db.values<[number]>("SELECT v FROM crash")).map((r) => r[0]),
        );
        const lost = acks.filter((n) => !present.has(n));
        assert.deepEqual(lost, [], `${lost.length} of ${acks.length} acknowledged writes lost`);
        await db.run("INSERT INTO crash(v) VALUES (-1)");
        assert.deepEqual(await db.get("SELECT count(*) AS n FROM crash WHERE v = -1"), { n: 1 });
      } finally {
        await server.restart();
        await db.close();
      }
    });

    it("a server that stops answering (SIGSTOP): calls reject within requestTimeout, then it recovers", async () => {
      const db = await table("stopped", { requestTimeout: 1000 });
      try {
        await server.signal("SIGSTOP");
        const started = performance.now();
        const [write, read] = await Promise.allSettled([
          db.run("INSERT INTO stopped(v) VALUES (1)"),
          db.get("SELECT 1 AS one"),
        ]);
        const took = performance.now() - started;
        assert.equal(write.status, "rejected");
        const error = (write as PromiseRejectedResult).reason;
        assert.ok(error instanceof RemoteError && error.mayHaveApplied, String(error));
        assert.match(error.message, /within 1000 ms/);
        assert.equal(read.status, "rejected");
        assert.ok(took < 3000, `took ${took} ms`);
        await server.signal("SIGCONT");
        await db.run("INSERT INTO stopped(v) VALUES (2)");
        assert.ok((await db.get<{ n: number }>("SELECT count(*) AS n FROM stopped"))!.n >= 1);
      } finally {
        await server.signal("SIGCONT");
        await db.close();
      }
    });

    it("an unreachable server: open() and calls reject at once with RemoteError, not applied", async () => {
      const db = await table("down");
      await server.signal("SIGKILL");
      try {
        const started = performance.now();
        await assert.rejects(
          db.run("INSERT INTO down(v) VALUES (1)"),
          (e) => e instanceof RemoteError && !e.mayHaveApplied && /Cannot reach/.test(e.message),
        );
        await assert.rejects(open(server.url), RemoteError);
        assert.ok(performance.now() - started < 2000);
      } finally {
        await server.restart();
        await db.close();
      }
    });

    it("kill -9 of a client process: the writes it saw acknowledged are there", async () => {
      const db = await open(server.url);
      try {
        await db.exec("CREATE TABLE IF NOT EXISTS rows(tag TEXT, n INTEGER)");
        const c = child(server.url, "killed", 0);
        while (acked(c.lines).length < 300) {
          if (c.proc.exitCode !== null) assert.fail(`the child exited: ${c.lines.join("\n")}`);
          await sleep(10);
        }
        c.proc.kill("SIGKILL");
        await c.exited;
        const present = new Set(
          (await db.values<[number]>("SELECT n FROM rows WHERE tag = 'killed'")).map((r) => r[0]),
        );
        const seen = acked(c.lines);
        assert.deepEqual(seen.filter((n) => !present.has(n)), []);
      } finally {
        await db.close();
      }
    });

    it("two client processes writing at once: all rows present, no SQLITE_BUSY", async () => {
      const db = await open(server.url);
      try {
        await db.exec("CREATE TABLE IF NOT EXISTS rows(tag TEXT, n INTEGER)");
        const [a, b] = [child(server.url, "a", 3000), child(server.url, "b", 3000)];
        await within(Promise.all([a.exited, b.exited]), 60_000, "both clients");
        for (const c of [a, b]) {
          assert.equal(c.lines.at(-1), "done");
          assert.deepEqual(c.lines.filter((l) => l.startsWith("fail")), []);
        }
        const counts = await db.all(
          "SELECT tag, count(DISTINCT n) AS n FROM rows WHERE tag IN ('a', 'b') GROUP BY tag ORDER BY tag",
        );
        assert.deepEqual(counts, [{ tag: "a", n: 3000 }, { tag: "b", n: 3000 }]);
      } finally {
        await db.close();
      }
    });
  });
});
