// The front-end build (`make assets`, part of `make install`): bundles and minifies our JavaScript and CSS with
// esbuild into server/static/dist/ (not in git), each file named by its content (common.3f2a9c1e.js), with a
// brotli (.br) and a gzip (.gz) copy beside it, and manifest.json: logical name -> file. The server reads the
// manifest (server/web/assets.py: `asset('common.js')` in templates, the files served immutable) and so does the
// service worker's precache list (server/pwa/views.py).
//
// The sources stay plain scripts in server/static/js and css: ESLint and the JavaScript unit tests read them as
// they are. A bundle is its sources, in order, run as one script (an IIFE): a page loads only the bundles it
// needs (base.html: theme, outbox-core, common, htmx unless the page opts out; a page adds its own).
import { build } from "esbuild";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";

const ROOT = path.dirname(fileURLToPath(import.meta.url));
const STATIC = path.join(ROOT, "server/static");
const OUT = path.join(STATIC, "dist");

// name -> sources (under server/static), or { copy: file } for a file already minified by its authors.
export const BUNDLES = {
  // In <head> without defer, so a dark ward never flashes white: kept tiny.
  "theme.js": ["js/theme.js"],
  // Every staff page: the outbox (shared with the service worker, which imports this same file), then the
  // header, the page-wide helpers and offline capture.
  "outbox-core.js": ["js/outbox-core.js"],
  "common.js": ["js/app.js", "js/header.js", "js/outbox-ui.js"],
  // Pages with hx-* attributes (base.html's `htmx` block; pages without any empty it).
  "htmx.js": { copy: "node_modules/htmx.org/dist/htmx.min.js" },
  // One page each.
  "assessment.js": ["js/draft.js", "js/assessment-form.js"],
  "draft.js": ["js/draft.js"],
  "outbox.js": ["js/outbox-page.js"],
  "parent-links.js": ["js/parent-link.js"],
  // Staff pages; the parent-link block on the trial page; the parents' own pages (no script at all).
  "app.css": ["css/app.css"],
  "parent-links.css": ["css/parent-links.css"],
  "parent-words.css": ["css/parent-words.css"],  // the parents' observations as the team reads them
  "summary.css": ["css/summary.css"],  // the trial summary, on screen and printed
  "parents.css": ["css/app.css", "css/parents.css"],
};

// The browsers the ward's phones run (Safari 15 on an iPhone at the oldest): syntax newer than these is lowered.
const TARGET = ["es2019", "chrome100", "safari15", "firefox100"];

async function bundle(name, sources) {
  const css = name.endsWith(".css");
  const stdin = sources.map((s) => (css ? `@import "./${s}";` : `import "./${s}";`)).join("\n");
  const result = await build({
    stdin: { contents: stdin, resolveDir: STATIC, sourcefile: name, loader: css ? "css" : "js" },
    bundle: true,
    format: css ? undefined : "iife",
    minify: true,
    target: TARGET,
    legalComments: "none",
    write: false,
    logLevel: "warning",
  });
  return Buffer.from(result.outputFiles[0].contents);
}

function hashedName(name, contents) {
  const ext = path.extname(name);
  const digest = createHash("sha256").update(contents).digest("hex").slice(0, 8);
  return `${path.basename(name, ext)}.${digest}${ext}`;
}

function writeWithCompressed(file, contents) {
  fs.writeFileSync(path.join(OUT, file), contents);
  const br = zlib.brotliCompressSync(contents, {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: contents.length },
  });
  const gz = zlib.gzipSync(contents, { level: 9 });
  // A copy is kept only where it is smaller; the server serves what exists.
  if (br.length < contents.length) { fs.writeFileSync(path.join(OUT, `${file}.br`), br); }
  if (gz.length < contents.length) { fs.writeFileSync(path.join(OUT, `${file}.gz`), gz); }
}

async function main() {
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  const manifest = {};
  for (const [name, spec] of Object.entries(BUNDLES)) {
    const contents = Array.isArray(spec) ? await bundle(name, spec) : fs.readFileSync(path.join(ROOT, spec.copy));
    manifest[name] = hashedName(name, contents);
    writeWithCompressed(manifest[name], contents);
  }
  // Written last, and whole: a server reading it never sees a half-made build.
  const tmp = path.join(OUT, "manifest.json.tmp");
  fs.writeFileSync(tmp, JSON.stringify(manifest, null, 2) + "\n");
  fs.renameSync(tmp, path.join(OUT, "manifest.json"));
  const sizes = Object.entries(manifest).map(([name, file]) => {
    const br = path.join(OUT, `${file}.br`);
    return `${name} ${fs.statSync(path.join(OUT, file)).size} B (br ${fs.existsSync(br) ? fs.statSync(br).size : "-"})`;
  });
  console.log(`server/static/dist: ${sizes.join(", ")}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
