// stats() and the onCommit hook: what they report matches what happened.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type CommitEvent, type LatencySummary, open, SqliteError } from "../mod.ts";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { runtimeCommand, settle, sleep, tempPath } from "./_helpers.ts";

function checkSummary(s: LatencySummary, count: number): void {
  assert.equal(s.count, count);
  assert.ok(s.meanMs > 0 && s.meanMs <= s.maxMs, JSON.stringify(s));
  assert.ok(s.p50Ms > 0 && s.p50Ms <= s.p99Ms && s.p99Ms <= s.maxMs, JSON.stringify(s));
}

describe("observability", () => {
  it("stats() accounts for every write, commit and read of a burst", async () => {
    const db = await open(tempPath(), { readers: 2 });
    await db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v UNIQUE)");
    const writes = Array.from(
      { length: 2000 },
      (_, i) => db.run("INSERT INTO t(v) VALUES (?)", [i]),
    );
    writes.push(db.run("INSERT INTO t(v) VALUES (?)", [5])); // fails alone: UNIQUE
    const { errors } = await settle(writes);
    assert.equal(errors.length, 1);
    await Promise.all(Array.from({ length: 200 }, () => db.all("SELECT count(*) FROM t")));
    const s = db.stats();
    assert.equal(s.committedRequests, 2001, "the exec and the 2000 inserts");
    assert.equal(s.failures, 1);
    // The histogram holds every commit, and its buckets bound each commit's size.
    const buckets = Object.entries(s.commitSizes);
    assert.equal(buckets.reduce((n, [, c]) => n + c, 0), s.commits);
    for (const [label] of buckets) assert.match(label, /^(1|\d+-\d+|1024\+)$/);
    assert.ok(s.largestCommit > 1, "a burst is grouped");
    checkSummary(s.writeLatency, 2002);
    assert.equal(s.queueWait.count, 2002);
    // One measure per group; a group replayed after a failure may use more than one commit.
    const groups = s.commitLatency.count;
    assert.ok(groups >= 1 && groups <= s.commits, `${groups} groups, ${s.commits} commits`);
    checkSummary(s.commitLatency, groups);
    assert.equal(s.readerUtilisation.length, 2);
    for (const u of s.readerUtilisation) assert.ok(u >= 0 && u <= 1, String(u));
    assert.ok(s.readerUtilisation.some((u) => u > 0), "the readers did some work");
    assert.equal(s.reads, 200);
    assert.equal(s.busyFailures, 0);
    assert.deepEqual(JSON.parse(JSON.stringify(s)), s, "a plain object");
    await db.close();
  });

  it("onCommit reports each group and transaction with what it carried", async () => {
    const events: CommitEvent[] = [];
    const db = await open(tempPath(), { onCommit: (e) => events.push(e) });
    await db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v UNIQUE)");
    const burst = Array.from({ length: 500 }, (_, i) => db.run("INSERT INTO t(v) VALUES (?)", [i]));
    burst.push(db.run("INSERT INTO t(v) VALUES (0)"));
    await settle(burst);
    await db.transaction(async (tx) => {
      await tx.run("INSERT INTO t(v) VALUES ('a')");
      await tx.run("INSERT INTO t(v) VALUES ('a')").catch(() => {}); // fails, caught
      await tx.run("INSERT INTO t(v) VALUES ('b')");
    });
    const groups = events.filter((e) => e.kind === "group");
    const sum = (k: "requests" | "failed" | "commits") => groups.reduce((n, e) => n + e[k], 0);
    const s = db.stats();
    assert.equal(sum("requests"), s.committedRequests);
    assert.equal(sum("requests"), 501);
    assert.equal(sum("failed"), 1);
    assert.equal(sum("commits"), s.commits);
    for (const e of groups) assert.ok(e.ms >= 0 && e.requests >= 1);
    assert.deepEqual(
      events.filter((e) => e.kind === "transaction").map(({ ms: _, ...e }) => e),
      [{ kind: "transaction", requests: 2, failed: 1, commits: 1 }],
    );
    await db.close();
  });

  it("queueWait shows writes held by a transaction on the calling thread", async () => {
    const db = await open(tempPath());
    await db.exec("CREATE TABLE t(v)");
    let began!: () => void;
    const begun = new Promise<void>((resolve) => (began = resolve));
    const transaction = db.transaction(async (tx) => {
      began();
      await sleep(150);
      await tx.run("INSERT INTO t VALUES (0)");
    });
    await begun;
    const held = db.run("INSERT INTO t VALUES (1)"); // waits for the transaction to end
    await transaction;
    await held;
    const { queueWait } = db.stats();
    assert.ok(
      queueWait.maxMs >= 100,
      `the write waited about 150 ms: ${JSON.stringify(queueWait)}`,
    );
    assert.deepEqual(await db.all("SELECT v FROM t"), [{ v: 0 }, { v: 1 }]);
    await db.close();
  });

  it("a group whose requests all fail is not counted or reported as a commit", async () => {
    const events: CommitEvent[] = [];
    const db = await open(tempPath(), { onCommit: (e) => events.push(e) });
    await db.exec("CREATE TABLE t(v UNIQUE)");
    await db.run("INSERT INTO t VALUES (1)");
    const before = db.stats();
    const { errors } = await settle([1, 1, 1].map((v) => db.run("INSERT INTO t VALUES (?)", [v])));
    assert.equal(errors.length, 3);
    const after = db.stats();
    assert.equal(after.commits, before.commits);
    assert.deepEqual(after.commitSizes, before.commitSizes);
    assert.equal(after.failures, before.failures + 3);
    assert.equal(events.length, 2, "the exec and the insert, nothing for the failed group");
    await db.close();
  });

  it("a hook that throws is logged; writes and the database carry on", async () => {
    const logged: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void logged.push(args);
    try {
      const db = await open(tempPath(), {
        onCommit: () => {
          throw new Error("metrics down");
        },
      });
      await db.exec("CREATE TABLE t(v)");
      await db.run("INSERT INTO t VALUES (1)");
      assert.deepEqual(await db.all("SELECT v FROM t"), [{ v: 1 }]);
      await db.close();
    } finally {
      console.error = original;
    }
    assert.equal(logged.length, 2);
    assert.match(String((logged[0] as unknown[])[1]), /metrics down/);
  });

  it("rejects an onCommit that is not a function", async () => {
    await assert.rejects(open(tempPath(), { onCommit: 5 as never }), {
      name: "TypeError",
      message: /onCommit must be a function/,
    });
  });

  it("does not count other errors as busy failures", async () => {
    // A lock held past busyTimeout by another process: failures_test.ts.
    const db = await open(tempPath());
    assert.equal(db.stats().busyFailures, 0);
    await assert.rejects(db.run("INSERT INTO nowhere VALUES (1)"), SqliteError);
    assert.equal(db.stats().busyFailures, 0, "other errors are not busy failures");
    await db.close();
  });
});

describe("warnings", () => {
  it("prints node:sqlite's ExperimentalWarning at most once per process, and the app's own warnings as before", async () => {
    const [cmd, args] = runtimeCommand(
      fileURLToPath(new URL("./_warnings_child.ts", import.meta.url)),
    );
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    const code = await new Promise((resolve) => child.once("exit", resolve));
    assert.equal(code, 0, stderr);
    const sqlite = stderr.match(/SQLite is an experimental feature/g) ?? [];
    assert.ok(sqlite.length <= 1, `printed ${sqlite.length} times:\n${stderr}`);
    assert.equal(stderr.match(/my own feature is experimental/g)?.length, 1, stderr);
  });
});

describe("metrics()", () => {
  it("gives stats() in Prometheus text format: typed families, cumulative buckets, escaped labels", async () => {
    const db = await open(tempPath(), { readers: 1 });
    try {
      await db.exec("CREATE TABLE t(x UNIQUE)");
      await settle(
        Array.from({ length: 50 }, (_, i) => db.run("INSERT INTO t VALUES (?)", [i % 40])),
      );
      await db.get("SELECT count(*) FROM t");
      const text = db.metrics({ labels: { db: 'a"b\\c\nd' } });
      const stats = db.stats();
      const label = 'db="a\\"b\\\\c\\nd"';
      const typed = new Map<string, string>();
      const samples = new Map<string, number>();
      for (const line of text.trimEnd().split("\n")) {
        const type = /^# TYPE (walpool_\w+) (counter|gauge|histogram)$/.exec(line);
        if (type) typed.set(type[1], type[2]);
        if (line.startsWith("#")) continue;
        const m = /^(walpool_\w+)\{(.*)\} (\S+)$/.exec(line);
        assert.ok(m, `not a sample line: ${line}`);
        assert.ok(m[2].startsWith(label), `labels of ${line}`);
        const family = m[1].replace(/_(bucket|sum|count)$/, "");
        assert.ok(typed.has(m[1]) || typed.get(family) === "histogram", `no TYPE before ${line}`);
        assert.ok(Number.isFinite(Number(m[3])), line);
        samples.set(`${m[1]}{${m[2]}}`, Number(m[3]));
      }
      assert.equal(samples.get(`walpool_commits_total{${label}}`), stats.commits);
      assert.equal(samples.get(`walpool_write_failures_total{${label}}`), 10);
      assert.equal(samples.get(`walpool_reads_total{${label}}`), stats.reads);
      assert.equal(typed.get("walpool_write_latency_seconds"), "histogram");
      for (const h of ["write_latency_seconds", "commit_latency_seconds", "commit_size"]) {
        const buckets = [...samples].filter(([k]) => k.startsWith(`walpool_${h}_bucket{`));
        const counts = buckets.map(([, v]) => v);
        assert.deepEqual(counts, [...counts].sort((a, b) => a - b), `${h} buckets cumulative`);
        assert.equal(counts.at(-1), samples.get(`walpool_${h}_count{${label}}`));
        assert.match(buckets.at(-1)![0], /le="\+Inf"/);
      }
      assert.equal(samples.get(`walpool_write_latency_seconds_count{${label}}`), 51);
      assert.throws(() => db.metrics({ labels: { "bad-name": "x" } }), TypeError);
      assert.throws(() => db.metrics({ labels: { le: "x" } }), TypeError);
      assert.match(db.metrics(), /^walpool_commits_total \d+$/m); // no labels, no braces
    } finally {
      await db.close();
    }
  });
});
