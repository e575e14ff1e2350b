const fs = require("node:fs");
const got = fs.existsSync("VERSION") ? fs.readFileSync("VERSION", "utf8").trim() : "(no VERSION)";
if (got !== "2.1.0") {
  console.log(`FAIL: VERSION holds "${got}"; expected 2.1.0 (the next minor after 2.0.3, as MAJOR.MINOR.PATCH)`);
  process.exit(1);
}
console.log("ok");
