// A driver module for driver_module_test.ts, given to open() by URL: this runtime's own driver,
// wrapped to note each connection it opens, as a line ("writer" or "reader") appended to the file
// `<database path>.opens`, so that the test sees which threads imported and used it. Exported as
// the module's default export (the test's other modules use the named export `driver`).

import { appendFileSync } from "node:fs";
import type { Driver } from "../lib/driver.ts";
import { loadDriver } from "../lib/_load_driver.ts";
import { defaultDriver } from "../lib/_runtime.ts";

const own = await loadDriver(defaultDriver);

const counting: Driver = {
  name: `${own.name}, counted`,
  open(path, options) {
    appendFileSync(`${path}.opens`, options.readonly ? "reader\n" : "writer\n");
    return own.open(path, options);
  },
  errorInfo: (error) => own.errorInfo(error),
};
export default counting;
