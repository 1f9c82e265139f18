// What walpool needs to know about a SQL text, worked out once on the calling thread and cached:
// where it goes (only statements that cannot write go to a reader; deciding at call time keeps
// every write in the single FIFO order), whether it is refused before it reaches SQLite, and the
// parameters it takes.

const COMMENTS_AND_SPACE = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/;
// Keywords of statements that write (`replace(` is the string function).
const WRITES = /\b(?:INSERT|UPDATE|DELETE|REPLACE(?!\s*\()|UPSERT)\b/i;
// String literals, quoted identifiers and comments, which may contain anything.
const QUOTED = /'(?:[^']|'')*'|"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\]|--[^\n]*|\/\*[\s\S]*?\*\//g;
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

/** What a SQL text is. */
export interface StatementInfo {
  /** A read that a read-only connection can carry out. */
  read: boolean;
  /** Why it is refused (a `TypeError` message), if it is. */
  refusal?: string;
  /** The transaction-control keyword (`BEGIN`, `COMMIT`, …) it holds, if it does. */
  control?: string;
  /** Whether it gives rows: a read, a `PRAGMA`, or a statement with `RETURNING`. */
  returnsRows: boolean;
  /** Parameters in all, numbered as SQLite numbers them. */
  count: number;
  /** Bare names of the named parameters (`:a`, `$a`, `@a`), in order. */
  named: string[];
  /** Whether it has `?` parameters. */
  positional: boolean;
}

const infos = new Map<string, StatementInfo>();

/** The analysis of `sql` (cached per SQL text, bounded). */
export function statementInfo(sql: string): StatementInfo {
  let info = infos.get(sql);
  if (!info) {
    if (typeof sql !== "string") throw new TypeError(`SQL must be a string, not ${typeof sql}`);
    const text = sql.replace(QUOTED, " ");
    const read = isReadOnly(text);
    const control = CONTROL.exec(text.replace(TRIGGER_BODY, " "))?.[1].toUpperCase();
    info = {
      read,
      refusal: refusal(text, control),
      control,
      returnsRows: read || /^\s*(?:PRAGMA|EXPLAIN)\b/i.test(text) || /\bRETURNING\b/i.test(text),
      ...parameters(text),
    };
    if (infos.size >= 1000) infos.clear();
    infos.set(sql, info);
  }
  return info;
}

/** `true` when `sql` is a read that a read-only connection can carry out. */
export function isRead(sql: string): boolean {
  return statementInfo(sql).read;
}

/**
 * Throws a `TypeError` when `sql` holds a statement that would break the single writer pattern:
 * one that begins, ends or nests a transaction (BEGIN, COMMIT, END, ROLLBACK, SAVEPOINT,
 * RELEASE: walpool owns the writer's transactions), ATTACH or DETACH (the readers would not
 * follow), or one that sets a pragma walpool depends on.
 */
export function checkStatement(sql: string): void {
  const { refusal } = statementInfo(sql);
  if (refusal) throw new TypeError(refusal);
}

/** `blanked`: the SQL with its literals and comments blanked out. */
function isReadOnly(blanked: string): boolean {
  const text = blanked.replace(COMMENTS_AND_SPACE, "");
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

/** Why `text` (with its literals blanked out) is refused, or undefined. */
function refusal(text: string, control: string | undefined): string | undefined {
  if (control) {
    return `${control} is not allowed here: walpool runs every write in its ` +
      "own transactions; use db.transaction() or db.batch() to group statements";
  }
  const attach = ATTACH.exec(text);
  if (attach) {
    return `${attach[1].toUpperCase()} is not allowed: it would change the writer's ` +
      "connection only, and the readers would not see it";
  }
  const pragma = SET_PRAGMA.exec(text);
  const reserved = pragma && RESERVED_PRAGMAS[pragma[1].toLowerCase()];
  if (reserved) return `PRAGMA ${pragma[1]} is set by walpool: ${reserved}`;
}

const PARAMETER = /\?(\d*)|(?<![\w$])[:@$]([A-Za-z_][\w$]*)/g;

/** The parameters of `text` (literals blanked out), numbered as SQLite numbers them. */
function parameters(text: string): Pick<StatementInfo, "count" | "named" | "positional"> {
  let count = 0;
  let positional = false;
  const seen = new Set<string>();
  const named: string[] = [];
  for (const m of text.matchAll(PARAMETER)) {
    if (m[2] !== undefined) {
      if (seen.has(m[0])) continue;
      seen.add(m[0]);
      named.push(m[2]);
      count++;
    } else {
      positional = true;
      count = m[1] ? Math.max(count, Number(m[1])) : count + 1;
    }
  }
  return { count, named, positional };
}
