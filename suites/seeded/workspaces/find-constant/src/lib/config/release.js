// Set by the release process.
const RELEASE_CODE = 7319;
module.exports = { RELEASE_CODE };
