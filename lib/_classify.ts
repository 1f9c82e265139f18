// Decides on the calling thread whether `get`/`all` may go to a reader: only statements that
// cannot write do. Deciding at call time keeps every write in the single FIFO order.

const COMMENTS_AND_SPACE = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/;
const WRITES = /\b(?:INSERT|UPDATE|DELETE|REPLACE|UPSERT)\b/i;

/** `true` when `sql` is a read that a read-only connection can carry out. */
export function isRead(sql: string): boolean {
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
