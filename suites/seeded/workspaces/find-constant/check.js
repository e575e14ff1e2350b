const fs = require("node:fs");
const got = fs.existsSync("answer.txt") ? fs.readFileSync("answer.txt", "utf8").trim() : "(no answer.txt)";
if (got !== "7319") { console.log(`FAIL: answer.txt holds ${got}, not the value of RELEASE_CODE`); process.exit(1); }
console.log("ok");
