import { greet } from "./src/greeting.js";
const got = greet("moss");
if (got !== "Hello, moss!") {
  console.log(`FAIL: greet("moss") returned ${JSON.stringify(got)}, expected "Hello, moss!"`);
  process.exit(1);
}
console.log("ok: greet works");
