// post-clear.mjs: signs N clear records as one party, each a copy of a
// template record with a fresh id and `created` (and the body's fields
// given in OVERRIDES replaced), and posts them to a node, 8 at a time;
// each must be answered 201.  What a browser test needs on its node before
// the screens run (web_spyware.sh: more licences than one page of the
// node's listing); not a test itself.  Signed with src/crypto.js, as the
// browser signs.
//
//   node test/post-clear.mjs URL TOKEN KEYFILE TEMPLATE N [OVERRIDES]
//
// TEMPLATE: a record's envelope (`comity record get`), its payload's type,
// to, refs and body copied; OVERRIDES: a JSON object merged into the body.
import { readFileSync } from 'node:fs';
import { parseKeyFile, signRecord, newId, readEnvelope } from '../src/crypto.js';

const [url, token, keyFile, template, n, overrides] = process.argv.slice(2);
const key = await parseKeyFile(readFileSync(keyFile, 'utf8'));
const { payload } = readEnvelope(readFileSync(template, 'utf8'), key.vkey);
const body = { ...payload.body, ...JSON.parse(overrides || '{}') };
let next = 0;
async function worker() {
  while (next < Number(n)) {
    next++;
    const p = { ...payload, id: newId(payload.type, key.party), author: key.party,
      created: new Date().toISOString(), tlp: 'clear', body };
    const r = await fetch(`${url}/v1/records`, { method: 'POST', body: signRecord(key, p),
      headers: { Authorization: `Token ${token}`, 'Content-Type': 'application/json' } });
    if (r.status !== 201) throw new Error(`record ${p.id}: ${r.status} ${await r.text()}`);
  }
}
await Promise.all(Array.from({ length: 8 }, worker));
console.log(`${n} records posted`);
