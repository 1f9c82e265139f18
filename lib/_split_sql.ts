// Splits a text of several SQL statements into one string each, as SQLite itself reads them:
// for an engine that takes one statement per call (libSQL's server), where a local connection
// would run the text whole with `exec`.

// A token: a quoted string or identifier, a comment, a word, or any other one character.
const TOKEN =
  /'(?:[^']|'')*'?|"(?:[^"]|"")*"?|`(?:[^`]|``)*`?|\[[^\]]*\]?|--[^\n]*|\/\*[\s\S]*?(?:\*\/|$)|[A-Za-z_][\w$]*|\s+|[\s\S]/g;

/**
 * The statements of `sql`, each without its `;`, empty ones dropped. A trigger's body
 * (`CREATE TRIGGER … BEGIN …; …; END`) stays in its statement: there, only the `;` after `END`
 * ends it.
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let words: string[] = []; // the statement's words so far, upper-cased (first ones only)
  let trigger = false;
  let last = ""; // the last significant token (a word upper-cased, or ";")
  let beforeLast = "";
  let hasContent = false;
  for (const m of sql.matchAll(TOKEN)) {
    const token = m[0];
    if (/^\s/.test(token) || token.startsWith("--") || token.startsWith("/*")) continue;
    if (token === ";") {
      if (!trigger || (last === "END" && beforeLast === ";")) {
        if (hasContent) statements.push(sql.slice(start, m.index).trim());
        start = m.index! + 1;
        words = [];
        trigger = false;
        last = beforeLast = "";
        hasContent = false;
        continue;
      }
    } else {
      hasContent = true;
    }
    const word = /^[A-Za-z_]/.test(token) ? token.toUpperCase() : token;
    if (words.length < 4 && /^[A-Z_]/.test(word)) {
      words.push(word);
      // CREATE [TEMP|TEMPORARY] TRIGGER
      trigger ||= words[0] === "CREATE" &&
        (words[1] === "TRIGGER" ||
          ((words[1] === "TEMP" || words[1] === "TEMPORARY") && words[2] === "TRIGGER"));
    }
    beforeLast = last;
    last = word;
  }
  if (hasContent) statements.push(sql.slice(start).trim());
  return statements;
}
