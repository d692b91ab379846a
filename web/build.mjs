// build.mjs: bundles src/ into dist/ (the static files every node serves at /).
// One script bundle and one style sheet, minified, with no inline script, so
// the node's Content-Security-Policy (script-src 'self') holds.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';

const out = process.argv[2] || 'dist';
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: ['src/app.js', 'src/style.css'],
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  outdir: out,
  legalComments: 'linked',
  logLevel: 'warning',
});
copyFileSync('src/index.html', `${out}/index.html`);
