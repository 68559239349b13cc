// Copies the front-end libraries from node_modules into the package's static/vendor folder,
// so that pages are served with no CDN.
import { cpSync, mkdirSync, rmSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const vendor = join(root, "src/campus/web/static/vendor");
const files = {
  "htmx/htmx.min.js": "htmx.org/dist/htmx.min.js",
  "alpinejs/alpine.min.js": "alpinejs/dist/cdn.min.js",
  "echarts/echarts.min.js": "echarts/dist/echarts.min.js",
  "tabler/tabler.min.css": "@tabler/core/dist/css/tabler.min.css",
  "tabler/tabler.min.js": "@tabler/core/dist/js/tabler.min.js",
  // Icon font used by the menus (MenuEntry.icon names a Tabler icon); the CSS finds the font
  // files in ./fonts/. Every supported browser reads woff2; woff is the fallback it lists next.
  "tabler-icons/tabler-icons.min.css": "@tabler/icons-webfont/dist/tabler-icons.min.css",
  "tabler-icons/fonts/tabler-icons.woff2": "@tabler/icons-webfont/dist/fonts/tabler-icons.woff2",
  "tabler-icons/fonts/tabler-icons.woff": "@tabler/icons-webfont/dist/fonts/tabler-icons.woff",
  // Process diagrams (workflow): the pre-built viewer and modeler bundles, their styles and the
  // BPMN icon font (bpmn.css finds it in ../font/; woff2 with woff as the fallback).
  "bpmn-js/bpmn-viewer.production.min.js": "bpmn-js/dist/bpmn-viewer.production.min.js",
  "bpmn-js/bpmn-modeler.production.min.js": "bpmn-js/dist/bpmn-modeler.production.min.js",
  "bpmn-js/diagram-js.css": "bpmn-js/dist/assets/diagram-js.css",
  "bpmn-js/bpmn-js.css": "bpmn-js/dist/assets/bpmn-js.css",
  "bpmn-js/bpmn-font/css/bpmn.css": "bpmn-js/dist/assets/bpmn-font/css/bpmn.css",
  "bpmn-js/bpmn-font/font/bpmn.woff2": "bpmn-js/dist/assets/bpmn-font/font/bpmn.woff2",
  "bpmn-js/bpmn-font/font/bpmn.woff": "bpmn-js/dist/assets/bpmn-font/font/bpmn.woff",
};

rmSync(vendor, { recursive: true, force: true });
for (const [target, source] of Object.entries(files)) {
  const from = join(root, "node_modules", source);
  if (!existsSync(from)) {
    console.error(`missing ${from}: run npm ci first`);
    process.exit(1);
  }
  const to = join(vendor, target);
  mkdirSync(dirname(to), { recursive: true });
  cpSync(from, to);
}
console.log(`front-end libraries copied to ${vendor}`);
