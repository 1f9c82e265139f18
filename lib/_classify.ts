// Decides on the calling thread where a statement goes: only statements that cannot write go to
// a reader. Deciding at call time keeps every write in the single FIFO order. Statements that
// would end or nest walpool's own transactions are refused before they reach SQLite.

const COMMENTS_AND_SPACE = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/;
const WRITES = /\b(?:INSERT|UPDATE|DELETE|REPLACE|UPSERT)\b/i;
// String literals, quoted identifiers and comments, which may contain anything.
export const QUOTED =
  /'(?:[^']|'')*'|"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\]|--[^\n]*|\/\*[\s\S]*?\*\//g;
/** Pragmas the single writer pattern depends on, and what to use instead. */
export const RESERVED_PRAGMAS: Record<string, string> = {
  journal_mode: "the database is always in WAL mode",
  query_only: "readers are query-only and the writer is not",
  synchronous: 'use the durability option ("normal" or "full")',
  busy_timeout: "use the busyTimeout option",
  locking_mode: "exclusive locking would shut the readers out",
};

// `PRAGMA [schema.]name = value` or `PRAGMA [schema.]name(value)`: setting, not reading.
const SET_PRAGMA = /(?:^|;)\s*PRAGMA\s+(?:\w+\s*\.\s*)?(\w+)\s*[=(]/i;
const ATTACH = /(?:^|;)\s*(ATTACH|DETACH)\b/i;
const CONTROL = /(?:^|;)\s*(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b/i;
// A trigger's body (BEGIN … ; END): its statements end with "; END", which is not a COMMIT.
const TRIGGER_BODY =
  /\bCREATE\s+(?:TEMP\s+|TEMPORARY\s+)?TRIGGER\b[\s\S]*?\bBEGIN\b[\s\S]*?;\s*END\b/gi;

/** Verdicts of `isRead` by SQL text (bounded). */
const reads = new Map<string, boolean>();

/** `true` when `sql` is a read that a read-only connection can carry out. */
export function isRead(sql: string): boolean {
  let verdict = reads.get(sql);
  if (verdict === undefined) {
    verdict = classify(sql);
    if (reads.size >= 1000) reads.clear();
    reads.set(sql, verdict);
  }
  return verdict;
}

function classify(sql: string): boolean {
  const text = sql.replace(COMMENTS_AND_SPACE, "");
  const keyword = /^[A-Za-z]+/.exec(text)?.[0].toUpperCase();
  switch (keyword) {
    case "SELECT":
    case "VALUES":
      return true;
    case "WITH":
    case "EXPLAIN":
      return !WRITES.test(text);
    default:
      return false; // PRAGMA, INSERT … RETURNING and everything else go to the writer
  }
}

/**
 * Throws a `TypeError` when `sql` holds a statement that would break the single writer pattern:
 * one that begins, ends or nests a transaction (BEGIN, COMMIT, END, ROLLBACK, SAVEPOINT,
 * RELEASE: walpool owns the writer's transactions), ATTACH or DETACH (the readers would not
 * follow), or one that sets a pragma walpool depends on.
 */
export function checkStatement(sql: string): void {
  if (allowed.has(sql)) return;
  if (typeof sql !== "string") throw new TypeError(`SQL must be a string, not ${typeof sql}`);
  const text = sql.replace(QUOTED, " ");
  const match = CONTROL.exec(text.replace(TRIGGER_BODY, " "));
  if (match) {
    throw new TypeError(
      `${match[1].toUpperCase()} is not allowed here: walpool runs every write in its own ` +
        "transactions; use db.transaction() or db.batch() to group statements",
    );
  }
  const attach = ATTACH.exec(text);
  if (attach) {
    throw new TypeError(
      `${attach[1].toUpperCase()} is not allowed: it would change the writer's connection only, ` +
        "and the readers would not see it",
    );
  }
  const pragma = SET_PRAGMA.exec(text);
  const reserved = pragma && RESERVED_PRAGMAS[pragma[1].toLowerCase()];
  if (reserved) throw new TypeError(`PRAGMA ${pragma[1]} is set by walpool: ${reserved}`);
  if (allowed.size >= 1000) allowed.clear();
  allowed.add(sql);
}

/** SQL texts already checked (bounded), so a hot statement is checked once. */
const allowed = new Set<string>();
