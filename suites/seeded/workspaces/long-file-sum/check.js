const fs = require("node:fs");
const want = fs.readFileSync("numbers.txt", "utf8").split("\n").filter(Boolean).reduce((s, x) => s + Number(x), 0);
const got = fs.existsSync("answer.txt") ? fs.readFileSync("answer.txt", "utf8").trim() : "(no answer.txt)";
if (got !== String(want)) { console.log(`FAIL: answer.txt holds ${got}, the sum of numbers.txt is ${want}`); process.exit(1); }
console.log("ok");
