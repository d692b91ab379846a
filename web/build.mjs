// build.mjs: bundles src/ into dist/ (the static files every node serves at /).
// The entry app.js and one style sheet, minified, with no inline script, so
// the node's Content-Security-Policy (script-src 'self') holds.  Screens
// that app.js imports dynamically (the statistics and their charts) become
// chunks of their own (splitting), fetched only when they open; code they
// share with the entry goes to a shared chunk that app.js imports.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';

const out = process.argv[2] || 'dist';
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: ['src/app.js', 'src/style.css'],
  bundle: true,
  splitting: true,
  chunkNames: '[name]-[hash]',
  minify: true,
  format: 'esm',
  target: 'es2022',
  outdir: out,
  legalComments: 'linked',
  logLevel: 'warning',
});
copyFileSync('src/index.html', `${out}/index.html`);
