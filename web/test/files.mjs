// files.mjs: evidence files in the web UI, in Debian's chromium driven by
// playwright-core.  Run by tests/cli/web_files.sh, which does the CLI's
// half between this script's steps (files in DIR say when):
//
//   node test/files.mjs URL DIR SHOTS
//
// DIR holds pk.mofa.key, in.mea.key, fr.anssi.key, browser.bin and
// case.json ({case, mark}).  This script writes DIR/browser.sha (the file
// pk.mofa's browser uploaded), waits for DIR/cli.sha and DIR/cli.done
// (the CLI fetched it and uploaded its own), saves the download of the
// CLI's file to DIR/got-cli.bin, writes DIR/ui.fetched, and waits for
// DIR/closed (the case closed and its files destroyed).
// The harness (harness.mjs) launches chromium, logs in, watches every
// request for secrets, runs axe and writes the screenshots.  Prints
// "ok ..." / "FAIL ..." lines; exits 1 if any check failed.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { harness } from './harness.mjs';

const [url, dir, shots] = process.argv.slice(2);
const { case: CASE, mark: MARK } = JSON.parse(readFileSync(`${dir}/case.json`, 'utf8'));

// what must never leave a browser: the parties' secret keys (the harness
// adds them at login) and the plaintext of the file sealed in the browser
// (its first line)
const h = harness({ url, shots, secrets: [MARK] });
const { ok, bad, check } = h;
const axe = (page, name) => h.axe(page, name);
const shot = (page, name) => h.shot(page, name);

// Besides the harness's watch: every upload is an age file named by its
// SHA-256, and they are counted.
let uploads = 0;
function watchUploads(page, who) {
  page.on('request', (req) => {
    if (!req.url().includes('/v1/files?case=')) return;
    uploads++;
    // (a Blob body is not shown to playwright: the CLI checks the stored
    // file instead, web_files.sh)
    const body = req.postDataBuffer();
    if (body && !body.subarray(0, 22).toString('latin1').startsWith('age-encryption.org/v1'))
      bad(`${who}: the upload is not an age file`);
    if (!/^[0-9a-f]{64}$/.test(req.headers()['comity-sha256'] || '')) bad(`${who}: the upload names no SHA-256`);
  });
}

async function login(browser, party) {
  const page = await h.login(browser, party, `${dir}/${party}.key`);
  watchUploads(page, party);
  return page;
}

// Records the words of every progress bar the page shows, however briefly.
async function recordProgress(page) {
  await page.evaluate(() => {
    window.progressSeen = [];
    new MutationObserver(() => {
      for (const p of document.querySelectorAll('div.progress label')) {
        const s = p.textContent;
        if (window.progressSeen[window.progressSeen.length - 1] !== s) window.progressSeen.push(s);
      }
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}

async function openCase(page, again = false) {
  // again: by way of the list, so that the case screen is drawn afresh
  if (again) {
    await page.goto(`${url}/#/cases`);
    await page.locator('h1', { hasText: 'Cases' }).waitFor();
  }
  await page.goto(`${url}/#/case/${encodeURIComponent(CASE)}`);
  await page.locator('h1', { hasText: 'Mutual legal assistance request' }).waitFor();
  await page.locator('h2', { hasText: 'Actions' }).waitFor();
}

async function waitFile(name, secs = 120) {
  for (let i = 0; i < secs * 5 && !existsSync(`${dir}/${name}`); i++) await new Promise((r) => setTimeout(r, 200));
  return existsSync(`${dir}/${name}`);
}

// The file entry named `name` in the documents list.
const entry = (page, name) => page.locator('li.file', { hasText: name });

const browser = await h.launch();
try {
  // the three log in at once
  const [a, b, c] = await Promise.all(['pk.mofa', 'in.mea', 'fr.anssi'].map((p) => login(browser, p)));

  // ---- pk.mofa answers in part with a file sealed in its browser ---------
  await openCase(a);
  await a.getByRole('button', { name: 'Send a partial answer' }).click();
  await a.getByLabel('Evidence file (optional)').waitFor();
  await axe(a, 'a partial answer with its file picker');
  await a.getByLabel('Text', { exact: true }).fill('the logs of 1-3 December');
  await a.getByLabel('Evidence file (optional)').setInputFiles(`${dir}/browser.bin`);
  await recordProgress(a);
  await a.getByRole('button', { name: 'Sign and send' }).click();
  await a.getByRole('status').filter({ hasText: 'Sent mla-partial with browser.bin' }).waitFor({ timeout: 60000 });
  const seen = await a.evaluate(() => window.progressSeen);
  check('the upload showed its progress: sealing, then sending', seen.some((s) => /^Sealing here: \d+%/.test(s)) &&
    seen.some((s) => /^Sending the sealed file: \d+%/.test(s)), JSON.stringify(seen.slice(0, 6)));
  check('... in one upload request, named by its SHA-256', uploads === 1, `${uploads}`);
  await entry(a, 'browser.bin').waitFor();
  const sha = (await entry(a, 'browser.bin').locator('code').textContent()).trim();
  check('the documents list the file by the SHA-256 of its age file', /^[0-9a-f]{64}$/.test(sha), sha);
  writeFileSync(`${dir}/browser.sha`, `${sha}\n`);
  await shot(a, 'case-files');

  // ---- fr.anssi: no case, no file link; the unknown hash's answer ----------
  await c.goto(`${url}/#/case/${encodeURIComponent(CASE)}`);
  await c.getByRole('alert').waitFor();
  check('fr.anssi: the case is not shown, no file link',
    !(await c.locator('li.file').count()) && !(await c.getByRole('button', { name: /Fetch and open/ }).count()));
  const [mine, unknown] = await c.evaluate(async (h) => {
    const get = async (x) => { const r = await fetch(`/v1/files/${x}`, { headers: { 'X-Comity-UI': '1' } }); return [r.status, (await r.text()).split(x).join('HASH')]; };
    return [await get(h), await get('0'.repeat(64))];
  }, sha);
  check('fr.anssi fetching the file gets exactly the unknown hash\'s answer', mine[0] === 404 &&
    JSON.stringify(mine) === JSON.stringify(unknown), JSON.stringify([mine, unknown]));

  // ---- in.mea fetches the file pk.mofa's CLI sealed, opens it here ---------
  if (!(await waitFile('cli.done'))) throw new Error('the CLI did not upload its file');
  await openCase(b);
  await entry(b, 'cli.bin').waitFor();
  const cliSha = readFileSync(`${dir}/cli.sha`, 'utf8').trim();
  check('in.mea sees the CLI\'s file by its SHA-256', (await entry(b, 'cli.bin').locator('code').textContent()).trim() === cliSha);
  await recordProgress(b);
  await b.getByRole('button', { name: 'Fetch and open cli.bin' }).click();
  const save = b.getByRole('link', { name: 'Save cli.bin' });
  await save.waitFor({ timeout: 60000 });
  const bseen = await b.evaluate(() => window.progressSeen);
  check('the fetch showed its progress', bseen.some((s) => /^Fetching and opening here: \d+%/.test(s)), JSON.stringify(bseen.slice(0, 4)));
  const [dl] = await Promise.all([b.waitForEvent('download'), save.click()]);
  check('the download is named as the record says', dl.suggestedFilename() === 'cli.bin', dl.suggestedFilename());
  await dl.saveAs(`${dir}/got-cli.bin`);
  ok('in.mea saved the CLI\'s file, opened in its browser');
  // and the browser's own file, sealed to in.mea in pk.mofa's browser
  await b.getByRole('button', { name: 'Fetch and open browser.bin' }).click();
  const save2 = b.getByRole('link', { name: 'Save browser.bin' });
  await save2.waitFor({ timeout: 60000 });
  const [dl2] = await Promise.all([b.waitForEvent('download'), save2.click()]);
  await dl2.saveAs(`${dir}/got-browser-in-browser.bin`);
  check('in.mea opens the file pk.mofa\'s browser sealed, byte for byte',
    readFileSync(`${dir}/got-browser-in-browser.bin`).equals(readFileSync(`${dir}/browser.bin`)));
  await axe(b, 'the case with a file opened');
  await shot(b, 'case-file-opened');
  writeFileSync(`${dir}/ui.fetched`, '');

  // ---- the case closed and retention ran: "destroyed on DATE by retention"
  if (!(await waitFile('closed'))) throw new Error('the case was not closed');
  await openCase(b, true);
  await b.getByRole('button', { name: 'Fetch and open browser.bin' }).click();
  const gone = entry(b, 'browser.bin').locator('p.gone');
  await gone.waitFor();
  const words = await gone.textContent();
  check('a destroyed file says when, and that retention destroyed it', /Destroyed on .*\d.* by retention/.test(words), words);
  check('... with its time in the page\'s zone, UTC on focus', await gone.locator('time[datetime]').count() === 1);
  check('... and no error', !(await entry(b, 'browser.bin').getByRole('alert').count()));
  await axe(b, 'a destroyed file');
  await shot(b, 'case-file-destroyed');
} catch (e) {
  bad(`browser test stopped: ${e.message.split('\n')[0]}`);
} finally {
  await browser.close();
}
h.exit();
