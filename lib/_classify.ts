// Decides on the calling thread where a statement goes: only statements that cannot write go to
// a reader. Deciding at call time keeps every write in the single FIFO order. Statements that
// would end or nest walpool's own transactions are refused before they reach SQLite.

const COMMENTS_AND_SPACE = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/;
const WRITES = /\b(?:INSERT|UPDATE|DELETE|REPLACE|UPSERT)\b/i;
// String literals, quoted identifiers and comments, which may contain anything.
export const QUOTED =
  /'(?:[^']|'')*'|"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\]|--[^\n]*|\/\*[\s\S]*?\*\//g;
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
 * Throws a `TypeError` when `sql` holds a statement that would begin, end or nest a transaction
 * (BEGIN, COMMIT, END, ROLLBACK, SAVEPOINT, RELEASE): walpool owns the writer's transactions.
 */
export function refuseTransactionControl(sql: string): void {
  if (allowed.has(sql)) return;
  if (typeof sql !== "string") throw new TypeError(`SQL must be a string, not ${typeof sql}`);
  const match = CONTROL.exec(sql.replace(QUOTED, " ").replace(TRIGGER_BODY, " "));
  if (match) {
    throw new TypeError(
      `${match[1].toUpperCase()} is not allowed here: walpool runs every write in its own ` +
        "transactions; use db.transaction() or db.batch() to group statements",
    );
  }
  if (allowed.size >= 1000) allowed.clear();
  allowed.add(sql);
}

/** SQL texts already checked (bounded), so a hot statement is checked once. */
const allowed = new Set<string>();
