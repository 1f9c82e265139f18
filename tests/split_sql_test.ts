// How exec() text is split into statements for an engine that takes one at a time (sqld).

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { splitStatements } from "../lib/_split_sql.ts";

describe("splitStatements", () => {
  it("splits at semicolons, dropping empty statements and keeping the text of each", () => {
    assert.deepEqual(splitStatements("CREATE TABLE a(x);; INSERT INTO a VALUES (1) ;\n"), [
      "CREATE TABLE a(x)",
      "INSERT INTO a VALUES (1)",
    ]);
    assert.deepEqual(splitStatements("SELECT 1"), ["SELECT 1"]);
    assert.deepEqual(splitStatements("  ;  -- nothing\n /* at all; */ "), []);
  });

  it("ignores semicolons in strings, quoted names and comments", () => {
    const sql = `INSERT INTO "a;b"(x) VALUES ('it''s; fine'); -- c; d
      SELECT [x;y], \`z;\` FROM t /* ; */; SELECT 'end'`;
    assert.deepEqual(splitStatements(sql), [
      `INSERT INTO "a;b"(x) VALUES ('it''s; fine')`,
      "-- c; d\n      SELECT [x;y], `z;` FROM t /* ; */",
      "SELECT 'end'",
    ]);
  });

  it("keeps a trigger's body whole, CASE … END inside it included", () => {
    const trigger = `CREATE TEMP TRIGGER t AFTER INSERT ON a BEGIN
      INSERT INTO b VALUES (CASE WHEN new.x > 0 THEN 'pos' ELSE 'neg' END);
      UPDATE c SET n = n + 1;
    END`;
    assert.deepEqual(splitStatements(`${trigger}; SELECT 1;`), [trigger, "SELECT 1"]);
    const plain = "create trigger u before delete on a begin select raise(abort, 'no'); end";
    assert.deepEqual(splitStatements(`${plain};delete from a`), [plain, "delete from a"]);
  });

  it("does not take a column named trigger, or BEGIN in other statements, for a trigger", () => {
    assert.deepEqual(splitStatements("CREATE TABLE trigger_log(trigger TEXT); SELECT 1"), [
      "CREATE TABLE trigger_log(trigger TEXT)",
      "SELECT 1",
    ]);
  });
});
