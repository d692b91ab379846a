// harness.mjs: what every browser test of the web UI shares, so that each
// test file holds only its own workflow.  A test imports it as
//
//   import { harness } from './harness.mjs';
//   const h = harness({ url, shots, secrets });  // secrets: strings that must never leave a browser
//   const browser = await h.launch();
//   const page = await h.login(browser, 'pk.mofa', `${dir}/pk.mofa.key`);
//   ... h.check('what holds', cond, detail); await h.axe(page, 'screen'); await h.shot(page, 'screen');
//   await browser.close(); h.exit();
//
// Debian's chromium is driven through playwright-core's executablePath
// (never a downloaded browser).  Every request a page sends is watched:
// a secret key, a passphrase or a sealed plaintext named in `secrets`, in
// the URL, a header or the body (a record's base64 payload included),
// fails the test, as does an amber or red record that leaves with a clear
// body.  axe-core is evaluated through the DevTools protocol, so the
// page's own CSP (no inline script) stays in force.  Prints "ok ..." /
// "FAIL ..." lines; exit() ends the process with 1 if any check failed.
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

// The Ed25519 seed and the age identity in a key file from `comity keygen`:
// what must never leave the browser that loads it (the signing key line,
// and its seed alone in base64 and hex, as code could send it).
export function keySecrets(keyfile) {
  const text = readFileSync(keyfile, 'utf8');
  const out = [];
  const sk = /# signing key: (\S+)/.exec(text);
  const age = /^AGE-SECRET-KEY-1\S+/m.exec(text);
  if (sk) {
    out.push(sk[1]);
    // base64 may hold '+': everything after the key id
    const seedB64 = /^PRIVATE\+KEY\+[^+]+\+[0-9a-f]{8}\+(.+)$/.exec(sk[1]);
    if (seedB64) {
      const seed = Buffer.from(seedB64[1], 'base64').subarray(1);
      out.push(seedB64[1], seed.toString('base64'), seed.toString('hex'));
    }
  }
  if (age) out.push(age[0]);
  return out;
}

export function harness({ url, shots, secrets = [] }) {
  const t0 = Date.now();
  const stamp = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
  let fails = 0;
  let axeSource = null;
  const h = {
    url,
    secrets,
    ok: (m) => console.log(`ok   ${m} [${stamp()}]`),
    bad: (m) => { console.log(`FAIL ${m}`); fails++; },
    check: (m, cond, detail = '') => (cond ? h.ok(m) : h.bad(`${m} ${detail}`)),
    failures: () => fails,
    exit: () => { console.log(fails ? `${fails} check(s) failed` : 'all checks passed'); process.exit(fails ? 1 : 0); },

    launch: () => chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    }),

    // Fails the test on any request of `page` that carries a secret;
    // counts the requests watched (h.watched).
    watched: 0,
    watch(page, who) {
      page.on('request', (req) => {
        h.watched++;
        const body = req.postDataBuffer();
        const parts = [req.url(), JSON.stringify(req.headers()), body ? body.toString('latin1') : ''];
        // a record's payload travels base64-encoded in its envelope: look
        // inside too (a body that is no envelope, such as a test's refused
        // '{}', carries nothing to decode)
        let env = null;
        try { env = body && JSON.parse(body.toString('utf8')); } catch { /* not JSON */ }
        if (body && req.url().endsWith('/v1/records') && env && typeof env.payload === 'string') {
          try {
            const payload = Buffer.from(env.payload, 'base64').toString('utf8');
            parts.push(payload);
            const p = JSON.parse(payload);
            if (['amber', 'amber+strict', 'red'].includes(p.tlp) && p.body !== undefined)
              h.bad(`${who}: an ${p.tlp} record left the browser with a clear body`);
          } catch (e) { h.bad(`${who}: POST /v1/records body is not an envelope: ${e.message}`); }
        }
        const all = parts.join('\n');
        h.secrets.forEach((s, i) => {
          if (s && all.includes(s)) h.bad(`${who}: ${req.method()} ${req.url()} carries secret #${i} (${s.length} chars)`);
        });
      });
    },

    async axe(page, name) {
      if (!axeSource) axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
      if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(axeSource);
      const r = await page.evaluate(async () => {
        const res = await window.axe.run(document, { resultTypes: ['violations'] });
        return res.violations.map((v) => `${v.id}: ${v.nodes.length} node(s) ${v.nodes[0].target}`);
      });
      h.check(`axe: no violations on ${name}`, r.length === 0, JSON.stringify(r));
    },

    shot: (page, name) => page.screenshot({ path: `${shots}/${name}.png`, fullPage: true }),

    heading: (page, re, timeout = 15000) => page.locator('h1', { hasText: re }).waitFor({ timeout }),

    // A new context and page logged in as `party` with its key file; the
    // page's errors and console errors fail the test, but for the HTTP
    // statuses a test provokes on purpose (401, 403, 404, 410, and those
    // in `allow`, e.g. [400] for a refusal the node must show).  Allocates
    // a browser context the caller may close (page.context().close()).
    async login(browser, party, keyfile, { viewport = { width: 1100, height: 900 }, allow = [] } = {}) {
      h.secrets.push(...keySecrets(keyfile));
      const ctx = await browser.newContext({ viewport, acceptDownloads: true });
      const page = await ctx.newPage();
      page.setDefaultTimeout(20000);
      h.watch(page, party);
      page.on('pageerror', (e) => h.bad(`${party}: page error ${e.message}`));
      page.on('console', (m) => {
        const expected = ['401', '403', '404', '410', ...allow.map(String)].some((c) => m.text().includes(`status of ${c}`));
        if (m.type() === 'error' && !expected && !/Content Security Policy/.test(m.text()))
          h.bad(`${party}: console error ${m.text()}`);
      });
      await page.goto(`${url}/`);
      await h.heading(page, 'Log in');
      await page.setInputFiles('#keyfile', keyfile);
      await page.getByRole('button', { name: 'Log in' }).click();
      await h.heading(page, 'Inbox');
      h.ok(`${party} logged in with its key file`);
      return page;
    },
  };
  return h;
}
