// A piscina task for bench/peers.ts: one better-sqlite3 connection per worker thread, one
// INSERT (its own transaction) per task.
const { workerData } = require("node:worker_threads");
const Database = require("better-sqlite3");
const db = new Database(workerData.path);
db.pragma("journal_mode = WAL");
db.pragma("synchronous = NORMAL");
db.pragma("busy_timeout = 5000");
const insert = db.prepare("INSERT INTO t(id, body) VALUES (?, ?)");
module.exports = ([id, body]) => insert.run(id, body).changes;
