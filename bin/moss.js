#!/usr/bin/env node
import("../dist/cli/main.js").catch((err) => {
  if (err && err.code === "ERR_MODULE_NOT_FOUND" && String(err.message).includes("dist/cli/main.js")) {
    console.error(
      "moss: the build output is missing (dist/). Run `npm ci` or `npm run build` in the moss folder.",
    );
    process.exit(2);
  }
  throw err;
});
