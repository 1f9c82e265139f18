// Child process of url_import_test.ts (Deno only): imports walpool from the base URL given, where
// a worker module is missing, calls open() 20 times and prints how each call ended, as JSON. Each
// must reject; a call that never settles makes this process fail (or time out) instead.
//
//   deno run --allow-read=DIR --allow-write=DIR tests/_open_fails_child.ts file:///DIR DIR/test.db

const [base, path] = Deno.args;
const { open }: typeof import("../mod.ts") = await import(`${base}/mod.ts`);

const outcomes: string[] = [];
for (let i = 0; i < 20; i++) {
  outcomes.push(
    await open(path, { readers: 1 }).then(async (db) => {
      await db.close();
      return "opened";
    }, (e) => e.name),
  );
}
console.log(JSON.stringify(outcomes));
