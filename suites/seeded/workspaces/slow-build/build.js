// A build step that takes a few seconds, like a real bundler.
const fs = require("node:fs");
setTimeout(() => {
  fs.mkdirSync("dist", { recursive: true });
  fs.writeFileSync("dist/out.txt", "built\n");
  console.log("build done: dist/out.txt");
}, 3000);
