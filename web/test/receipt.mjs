// receipt.mjs: web/src/receipt.js against a real node's receipt, and its
// refusals: node test/receipt.mjs URL TOKEN ID [WITNESSES].  Prints ok/FAIL
// lines, exits 1 on any failure.  The same code runs in the browser
// (Message and Record screens, "Check the receipt").  With WITNESSES (the
// comma-separated names of the witnesses that cosigned the node's
// checkpoint), the node must publish a witness policy whose quorum they
// meet: each cosignature is verified here, a tampered one refuses the
// receipt, and a policy asking for one more witness is not met.
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { checkReceipt, checkCheckpoint, parsePolicy } from '../src/receipt.js';

const [url, token, id, witnesses] = process.argv.slice(2);
const get = async (p) => {
  const r = await fetch(url + p, { headers: { Authorization: `Token ${token}` } });
  if (!r.ok) throw new Error(`${p}: HTTP ${r.status}`);
  return r.text();
};
let fails = 0;
const ok = (m) => console.log(`ok   ${m}`);
const bad = (m) => { console.log(`FAIL ${m}`); fails++; };
const refused = (what, f) => { try { f(); bad(`${what} was accepted`); } catch (e) { ok(`${what} refused: ${e.message}`); } };

const node = JSON.parse(await get('/v1/node'));
const env = JSON.parse(await get(`/v1/records/${id}`));
let proof = '';
for (let i = 0; i < 50 && !proof; i++) {
  try { proof = await get(`/v1/records/${id}/receipt`); } catch { await new Promise((r) => setTimeout(r, 200)); }
}
try {
  const r = checkReceipt(proof, env, node.vkey);
  ok(`receipt verifies in receipt.js: entry ${r.index} of ${r.size}`);
} catch (e) { bad(`receipt: ${e.message}`); }
try { checkCheckpoint(node.checkpoint, node.vkey); ok('node checkpoint verifies'); } catch (e) { bad(`checkpoint: ${e.message}`); }

// every part matters
const lines = proof.split('\n');
const idx = lines.findIndex((l) => l.startsWith('index '));
const n = Number(lines[idx].slice(6));
const other = [...lines]; other[idx] = `index ${n + 1}`;
refused('another index', () => checkReceipt(other.join('\n'), env, node.vkey));
const sigAt = lines.findIndex((l) => l.startsWith('\u2014 '));
const badSig = [...lines];
badSig[sigAt] = badSig[sigAt].replace(/.(=*)$/, (m, pad) => (m[0] === 'A' ? 'B' : 'A') + pad);
refused('a changed checkpoint signature', () => checkReceipt(badSig.join('\n'), env, node.vkey));
// the same signature bytes written with a padding bit set: one value has
// one text (the node refuses such base64 too)
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const loose = [...lines];
loose[sigAt] = loose[sigAt].replace(/.(=+)$/, (m, pad) => B64[B64.indexOf(m[0]) | 1] + pad);
refused('a signature in non-canonical base64', () => checkReceipt(loose.join('\n'), env, node.vkey));
const rootAt = lines.indexOf('', idx) + 3;
const badRoot = [...lines];
badRoot[rootAt] = Buffer.alloc(32, 7).toString('base64');
refused('a changed root', () => checkReceipt(badRoot.join('\n'), env, node.vkey));
const payload = JSON.parse(Buffer.from(env.payload, 'base64').toString());
payload.created = '2020-01-01T00:00:00.000Z';
refused('another record', () => checkReceipt(proof, { ...env, payload: Buffer.from(JSON.stringify(payload)).toString('base64') }, node.vkey));
const otherKey = node.vkey.replace(/\+[0-9a-f]{8}\+/, '+00000000+');
refused('another log key', () => checkReceipt(proof, env, otherKey));

if (witnesses) {
  const want = witnesses.split(',').sort().join(',');
  const policy = node.witness_policy;
  if (!policy) bad('GET /v1/node has no witness_policy');
  else {
    try {
      const r = checkReceipt(proof, env, node.vkey, policy);
      const got = r.witnesses.verified.map((v) => v.name).sort().join(',');
      if (r.witnesses.met && got === want) ok(`quorum met (${r.witnesses.need}), cosignatures verified: ${got}`);
      else bad(`quorum: met ${r.witnesses.met}, verified ${got}, want ${want}`);
      const times = r.witnesses.verified.every((v) => Math.abs(v.time * 1000 - Date.now()) < 3600e3);
      if (times) ok('each cosignature carries its witness\'s time (within the hour)'); else bad(`times ${JSON.stringify(r.witnesses.verified)}`);
    } catch (e) { bad(`receipt under the witness policy: ${e.message}`); }
    // a cosignature changed by one bit of its signature (its time intact)
    const cosAt = lines.findIndex((l, i) => i > sigAt && l.startsWith('\u2014 ') && !l.startsWith(`\u2014 ${node.origin} `));
    if (cosAt < 0) bad('the receipt carries no cosignature');
    else {
      const tampered = [...lines];
      const [dash, name, b64] = tampered[cosAt].split(' ');
      const raw = Buffer.from(b64, 'base64');
      raw[4 + 8 + 10] ^= 1;
      tampered[cosAt] = [dash, name, raw.toString('base64')].join(' ');
      refused(`a tampered cosignature by ${name}`, () => checkReceipt(tampered.join('\n'), env, node.vkey, policy));
      // the same receipt is accepted without a policy: only the policy
      // makes the browser check cosignatures
      try { checkReceipt(tampered.join('\n'), env, node.vkey); ok('without a policy the cosignatures are listed, not checked'); } catch (e) { bad(`no policy: ${e.message}`); }
      // a changed time: the signature covers it
      const late = [...lines];
      const raw2 = Buffer.from(b64, 'base64');
      raw2[4 + 7] ^= 1;
      late[cosAt] = [dash, name, raw2.toString('base64')].join(' ');
      refused(`a cosignature by ${name} with another time`, () => checkReceipt(late.join('\n'), env, node.vkey, policy));
    }
    // one more witness asked for, whom nobody runs: not met, the others named
    const pk = ed25519.getPublicKey(ed25519.utils.randomSecretKey());
    const raw = Buffer.concat([Buffer.from([4]), pk]);
    const kid = Buffer.from(sha256(Buffer.concat([Buffer.from('w3.example\n'), raw]))).subarray(0, 4).toString('hex');
    const names = policy.split('\n').filter((l) => l.startsWith('witness ')).map((l) => l.split(/\s+/)[1]);
    const more = `${policy.split('\n').filter((l) => l && !l.startsWith('quorum')).join('\n')}
witness w3.example w3.example+${kid}+${raw.toString('base64')}
group every all ${names.join(' ')} w3.example
quorum every
`;
    try {
      const r = checkReceipt(proof, env, node.vkey, more);
      const got = r.witnesses.verified.map((v) => v.name).sort().join(',');
      if (!r.witnesses.met && got === want) ok(`a quorum of every witness and w3: not met (${r.witnesses.need}), verified ${got}`);
      else bad(`w3 quorum: met ${r.witnesses.met}, verified ${got}`);
    } catch (e) { bad(`w3 policy: ${e.message}`); }
    // the policy's own rules, as src/tlog/policy.c has them
    const w1 = policy.split('\n').find((l) => l.startsWith('witness '));
    for (const [what, text] of [
      ['a policy without a quorum line', `${w1}\n`],
      ['a group member not defined above', `group g any nobody\nquorum g\n`],
      ['a threshold above the members', `${w1}\ngroup g 2 ${w1.split(' ')[1]}\nquorum g\n`],
      ['a name defined twice', `${w1}\n${w1}\nquorum none\n`],
      ['a log key as a witness key', `witness x ${node.vkey}\nquorum x\n`],
      ['a last line without its newline', `quorum none`],
      ['a control character', `quorum none\x01\n`],
      ['two quorum lines', `quorum none\nquorum none\n`],
    ]) refused(what, () => parsePolicy(text));
  }
}
process.exit(fails ? 1 : 0);
