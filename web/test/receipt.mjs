// receipt.mjs: web/src/receipt.js against a real node's receipt, and its
// refusals: node test/receipt.mjs URL TOKEN ID.  Prints ok/FAIL lines,
// exits 1 on any failure.  The same code runs in the browser (Message
// screen, "Check the receipt").
import { checkReceipt, checkCheckpoint } from '../src/receipt.js';

const [url, token, id] = process.argv.slice(2);
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
process.exit(fails ? 1 : 0);
