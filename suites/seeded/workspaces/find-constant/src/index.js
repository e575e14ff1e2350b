const config = require("./lib/config/release.js");
console.log(`release ${config.RELEASE_CODE}`);
