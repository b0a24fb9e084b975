// Copy the built front-end files the pages load from node_modules/ into static/vendor/.
// Run by `./dev up`, `./dev test` and .ci/run after `npm ci`; nothing is fetched at run time.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const files = {
  "chart.js/dist/chart.umd.min.js": "chart.umd.min.js",
};
const target = join(root, "static", "vendor");
mkdirSync(target, { recursive: true });
for (const [from, to] of Object.entries(files)) {
  copyFileSync(join(root, "node_modules", from), join(target, to));
  console.log(`static/vendor/${to}`);
}
