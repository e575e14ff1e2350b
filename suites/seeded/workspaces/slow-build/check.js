const fs = require("node:fs");
const got = fs.existsSync("dist/out.txt") ? fs.readFileSync("dist/out.txt", "utf8").trim() : "";
if (got !== "built") { console.log("FAIL: dist/out.txt is missing: the build did not finish"); process.exit(1); }
console.log("ok");
