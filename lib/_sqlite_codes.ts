// SQLite result code names, built from the primary codes and their extended variants
// (extended code = primary | (n << 8)), as documented at sqlite.org/rescode.html.

const PRIMARY: Record<number, string> = {
  0: "OK",
  1: "ERROR",
  2: "INTERNAL",
  3: "PERM",
  4: "ABORT",
  5: "BUSY",
  6: "LOCKED",
  7: "NOMEM",
  8: "READONLY",
  9: "INTERRUPT",
  10: "IOERR",
  11: "CORRUPT",
  12: "NOTFOUND",
  13: "FULL",
  14: "CANTOPEN",
  15: "PROTOCOL",
  16: "EMPTY",
  17: "SCHEMA",
  18: "TOOBIG",
  19: "CONSTRAINT",
  20: "MISMATCH",
  21: "MISUSE",
  22: "NOLFS",
  23: "AUTH",
  24: "FORMAT",
  25: "RANGE",
  26: "NOTADB",
  27: "NOTICE",
  28: "WARNING",
  100: "ROW",
  101: "DONE",
};

// Extended names by primary code, in order n = 1, 2, 3, … ("" where a number is unused).
const EXTENDED: Record<number, string[]> = {
  1: ["MISSING_COLLSEQ", "RETRY", "SNAPSHOT"],
  4: ["ROLLBACK"],
  5: ["RECOVERY", "SNAPSHOT", "TIMEOUT"],
  6: ["SHAREDCACHE", "VTAB"],
  8: ["RECOVERY", "CANTLOCK", "ROLLBACK", "DBMOVED", "CANTINIT", "DIRECTORY"],
  10: [
    "READ",
    "SHORT_READ",
    "WRITE",
    "FSYNC",
    "DIR_FSYNC",
    "TRUNCATE",
    "FSTAT",
    "UNLOCK",
    "RDLOCK",
    "DELETE",
    "BLOCKED",
    "NOMEM",
    "ACCESS",
    "CHECKRESERVEDLOCK",
    "LOCK",
    "CLOSE",
    "DIR_CLOSE",
    "SHMOPEN",
    "SHMSIZE",
    "SHMLOCK",
    "SHMMAP",
    "SEEK",
    "DELETE_NOENT",
    "MMAP",
    "GETTEMPPATH",
    "CONVPATH",
    "VNODE",
    "AUTH",
    "BEGIN_ATOMIC",
    "COMMIT_ATOMIC",
    "ROLLBACK_ATOMIC",
    "DATA",
    "CORRUPTFS",
  ],
  11: ["VTAB", "SEQUENCE", "INDEX"],
  14: ["NOTEMPDIR", "ISDIR", "FULLPATH", "CONVPATH", "DIRTYWAL", "SYMLINK"],
  19: [
    "CHECK",
    "COMMITHOOK",
    "FOREIGNKEY",
    "FUNCTION",
    "NOTNULL",
    "PRIMARYKEY",
    "TRIGGER",
    "UNIQUE",
    "VTAB",
    "ROWID",
    "PINNED",
    "DATATYPE",
  ],
  23: ["USER"],
  27: ["RECOVER_WAL", "RECOVER_ROLLBACK"],
  28: ["AUTOINDEX"],
};

/** The name of a (primary or extended) SQLite result code, e.g. `2067` → `"SQLITE_CONSTRAINT_UNIQUE"`. */
export function codeName(errcode: number): string {
  const primary = errcode & 0xff;
  const base = PRIMARY[primary];
  if (base === undefined) return "SQLITE_ERROR";
  const extended = errcode >> 8;
  if (extended === 0) return `SQLITE_${base}`;
  const name = EXTENDED[primary]?.[extended - 1];
  return name ? `SQLITE_${base}_${name}` : `SQLITE_${base}`;
}

/** The number of a primary code name such as `"SQLITE_BUSY"`, or `1` (SQLITE_ERROR) if unknown. */
export function codeNumber(name: string): number {
  for (const [num, base] of Object.entries(PRIMARY)) {
    if (`SQLITE_${base}` === name) return Number(num);
    const ext = EXTENDED[Number(num)];
    const i = ext?.findIndex((e) => `SQLITE_${base}_${e}` === name) ?? -1;
    if (i >= 0) return Number(num) | ((i + 1) << 8);
  }
  return 1;
}

// SQLite's messages for the codes callers act on, for bindings that report a message without
// its code. A UNIQUE failure on a rowid alias is reported as UNIQUE (SQLite says PRIMARYKEY).
const MESSAGES: [RegExp, number][] = [
  [/^UNIQUE constraint failed/, 2067],
  [/^NOT NULL constraint failed/, 1299],
  [/^CHECK constraint failed/, 275],
  [/^FOREIGN KEY constraint failed/, 787],
  [/^database is locked/, 5],
  [/^database table is locked/, 6],
  [/^attempt to write a readonly database/, 8],
  [/^interrupted/, 9],
  [/^disk I\/O error/, 10],
  [/^database disk image is malformed/, 11],
  [/^database or disk is full/, 13],
  [/^unable to open database file/, 14],
  [/^out of memory/, 7],
  [/^string or blob too big/, 18],
  [/^datatype mismatch/, 20],
];

/** The code SQLite uses for `message`, or `1` (SQLITE_ERROR) when it is not one of the above. */
export function codeFromMessage(message: string): number {
  return MESSAGES.find(([re]) => re.test(message))?.[1] ?? 1;
}

/**
 * Whether a code name is SQLITE_BUSY or one of its extended codes: another connection held a
 * lock past the busy timeout (what stats() counts as `busyFailures`).
 */
export function isBusy(code: string | undefined): boolean {
  return code === "SQLITE_BUSY" || (code?.startsWith("SQLITE_BUSY_") ?? false);
}
