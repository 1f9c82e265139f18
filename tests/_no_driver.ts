// A module for driver_module_test.ts that exports no Driver: its `driver` has no errorInfo().

export const driver = {
  name: "incomplete",
  open(): never {
    throw new Error("never called: walpool refuses this driver before opening anything");
  },
};
