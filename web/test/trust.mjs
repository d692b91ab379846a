// trust.mjs: what the browser checks itself rather than trust the node.
// Run by tests/cli/web_trust.sh:
//
//   node test/trust.mjs URL DIR SHOTS RECORD_ID COMITY NODE_DIR
//
// The node's checkpoint carries the cosignatures of w1.example and
// w2.example, and its witness policy wants both.  pk.mofa opens the record
// screen of RECORD_ID: the receipt verifies here, the quorum is met, both
// witnesses are named; the operator then installs DIR/policy3 (`comity
// peer witnesses`: both and w3.example, whom nobody runs): the record and
// log screens say the quorum is not met, still naming both.  Then the
// pinned keys: pk.mofa's browser pinned in.mea's key when it first listed
// the parties; a node that answers another key for in.mea (this test
// rewrites GET /v1/parties in the page's network, as a node under someone
// else's control would) gets a warning on every screen, and an amber
// request to in.mea is refused before sealing, with no record sent; the
// user accepts the change, and when the node gives the real key again, the
// warning is back until accepted, after which the request is sealed and
// sent.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { harness } from './harness.mjs';

const [url, dir, shots, id, comity, nodeDir] = process.argv.slice(2);
const h = harness({ url, shots });
const browser = await h.launch();
const a = await h.login(browser, 'pk.mofa', `${dir}/pk.mofa.key`);
const hash = (page, to) => page.evaluate((x) => { location.hash = x; }, to);

// ---- the record screen: receipt, cosignatures, quorum ---------------------
await hash(a, `#/record/${encodeURIComponent(id)}`);
await h.heading(a, /^Record /);
let q = a.locator('[data-quorum]');
await q.waitFor();
h.check('record screen: the quorum is met', (await q.getAttribute('data-quorum')) === 'met' &&
  (await q.textContent()).includes('Quorum met.'), await q.textContent());
let names = (await a.locator('.cosigner').allTextContents()).sort().join(',');
h.check('record screen names the witnesses whose cosignature verified here', names === 'w1.example,w2.example', names);
h.check('the receipt verified', (await a.textContent('main')).includes('Receipt verified'));
h.check('the receipt and the policy can be downloaded',
  (await a.getByRole('link', { name: 'Download the receipt' }).count()) === 1 &&
  (await a.getByRole('link', { name: 'Download the witness policy' }).count()) === 1);
await h.axe(a, 'record (quorum met)');
await h.shot(a, 'record-quorum-met');

execFileSync(comity, ['peer', 'witnesses', nodeDir, `${dir}/policy3`]);
await hash(a, '#/inbox');
await h.heading(a, 'Inbox');
await hash(a, `#/record/${encodeURIComponent(id)}`);
await h.heading(a, /^Record /);
q = a.locator('[data-quorum]');
await q.waitFor();
h.check('a policy that also asks for w3: quorum not met', (await q.getAttribute('data-quorum')) === 'not-met' &&
  (await q.textContent()).includes('Quorum not met.'), await q.textContent());
names = (await a.locator('.cosigner').allTextContents()).sort().join(',');
h.check('... still naming the two that verified', names === 'w1.example,w2.example', names);
await h.axe(a, 'record (quorum not met)');
await h.shot(a, 'record-quorum-unmet');
await a.getByRole('link', { name: 'Log', exact: true }).click();
await h.heading(a, 'Log');
q = a.locator('[data-quorum]');
await q.waitFor();
h.check('the log screen checks the checkpoint\'s quorum too', (await q.getAttribute('data-quorum')) === 'not-met');

// ---- pinned keys ------------------------------------------------------------
const pins = JSON.parse(await a.evaluate(() => localStorage.getItem('comity.pins')) || '{}');
const real = readFileSync(`${dir}/in.mea.pub`, 'utf8').trim().split(/\s+/);
h.check('in.mea\'s keys were pinned on first sight', pins['in.mea'] && pins['in.mea'].vkey === real[0] &&
  pins['in.mea'].recipient === real[1], JSON.stringify(pins['in.mea']));
const fake = readFileSync(`${dir}/in.mea.other.pub`, 'utf8').trim().split(/\s+/);
const swap = async (route) => {
  const resp = await route.fetch();
  const j = await resp.json();
  for (const p of j.parties) if (p.name === 'in.mea') [p.vkey, p.recipient] = fake;
  await route.fulfill({ response: resp, json: j });
};
let posts = 0;
a.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/v1/records')) posts++; });
async function relogin() {
  await a.getByRole('button', { name: 'Log out' }).click();
  await h.heading(a, 'Log in');
  await a.setInputFiles('#keyfile', `${dir}/pk.mofa.key`);
  await a.getByRole('button', { name: 'Log in' }).click();
  await h.heading(a, 'Inbox');
}
async function request() {
  await a.getByRole('link', { name: 'New request' }).click();
  await h.heading(a, 'New request');
  await a.getByLabel('To (states or parties, comma-separated)').fill('in.mea');
  await a.getByLabel('Sharing (TLP)').selectOption('amber');
  await a.getByLabel('Kind').selectOption('assistance');
  await a.getByLabel('Norm').selectOption('13h');
  await a.getByLabel('What is asked').fill('pinned keys');
  await a.getByRole('button', { name: 'Sign and send' }).click();
}
const warning = a.getByRole('alert').filter({ hasText: 'A party\'s key has changed' });

await a.route('**/v1/parties', swap);
await relogin();
await warning.waitFor();
h.check('a changed key is announced, naming the party and both key ids',
  (await warning.textContent()).includes('in.mea') && (await warning.textContent()).includes(real[0].split('+')[1]) &&
  (await warning.textContent()).includes(fake[0].split('+')[1]), await warning.textContent());
await h.axe(a, 'inbox with a changed key');
await h.shot(a, 'key-changed');
await request();
await a.getByText('Not sealed: the key of in.mea differs').waitFor();
h.check('nothing is sealed to a changed key: no record sent', posts === 0, `${posts} POST /v1/records`);
h.check('the warning stays on the compose screen', await warning.isVisible());
await a.getByRole('button', { name: 'Accept the new key of in.mea' }).click();
await warning.waitFor({ state: 'detached' });
h.check('accepted: the warning is gone and the new key is the pin',
  JSON.parse(await a.evaluate(() => localStorage.getItem('comity.pins')))['in.mea'].vkey === fake[0]);

await a.unroute('**/v1/parties', swap);
await relogin();
await warning.waitFor();
h.check('the node gives the first key again: announced again (the pin is what was accepted)',
  (await warning.textContent()).includes(fake[0].split('+')[1]));
await a.getByRole('button', { name: 'Accept the new key of in.mea' }).click();
await warning.waitFor({ state: 'detached' });
await request();
await h.heading(a, /^request /);
h.check('once accepted, the request is sealed to in.mea and sent', posts === 1, `${posts} POST /v1/records`);

await browser.close();
h.exit();
