// Fault injection for walpool's own reliability tests: wraps a real driver and fails the Nth
// call of one operation with a given SQLite code, once or from then on. Never used unless a test
// opens a database with the internal `faults` option.

import type { Driver, DriverConnection, DriverStatement } from "./driver.ts";
import { codeNumber } from "./_sqlite_codes.ts";

/** Which call to fail, and how. */
export interface FaultPlan {
  op: "prepare" | "step" | "begin" | "commit";
  nth: number;
  code: "SQLITE_IOERR" | "SQLITE_FULL" | "SQLITE_BUSY" | "SQLITE_NOMEM";
  persistent: boolean;
}

class InjectedFault extends Error {
  readonly code: string;
  constructor(code: string) {
    super(`injected fault: ${code}`);
    this.code = code;
  }
}

/** `driver` with `plan` applied to every connection it opens. */
export function withFaults(driver: Driver, plan: FaultPlan): Driver {
  return {
    name: driver.name,
    open(path, options) {
      const db = driver.open(path, options);
      let calls = 0;
      const maybeFail = (op: FaultPlan["op"]) => {
        if (op !== plan.op) return;
        calls++;
        if (calls === plan.nth || (plan.persistent && calls > plan.nth)) {
          // As SQLite may on these errors, the open transaction is rolled back too.
          if (plan.code !== "SQLITE_BUSY" && op !== "begin" && db.inTransaction()) {
            db.exec("ROLLBACK");
          }
          throw new InjectedFault(plan.code);
        }
      };
      const statement = (stmt: DriverStatement): DriverStatement => ({
        run: (p) => (maybeFail("step"), stmt.run(p)),
        get: (p) => (maybeFail("step"), stmt.get(p)),
        all: (p) => (maybeFail("step"), stmt.all(p)),
        values: (p) => (maybeFail("step"), stmt.values(p)),
        finalize: () => stmt.finalize(),
      });
      const connection: DriverConnection = {
        prepare: (sql) => (maybeFail("prepare"), statement(db.prepare(sql))),
        exec(sql) {
          if (/^\s*BEGIN/i.test(sql)) maybeFail("begin");
          if (/^\s*COMMIT/i.test(sql)) maybeFail("commit");
          db.exec(sql);
        },
        inTransaction: () => db.inTransaction(),
        close: () => db.close(),
      };
      return connection;
    },
    errorInfo(error) {
      if (error instanceof InjectedFault) {
        return { code: error.code, errcode: codeNumber(error.code), message: error.message };
      }
      return driver.errorInfo(error);
    },
  };
}
