// receipt.js: checking a record's receipt (c2sp.org/tlog-proof) and the
// node's checkpoint (c2sp.org/tlog-checkpoint, a signed note) in the
// browser, against the node's log key, as `comity record verify
// --receipt` does offline (docs/tlog.md):
//   envelope -> digest = SHA-256(PAE(type, payload)) -> entry
//   "comity-record-v1:<hex digest>" -> leaf hash SHA-256(0x00 || entry)
//   -> RFC 9162 inclusion proof -> root of the checkpoint -> the
//   checkpoint's Ed25519 signature under the node's verifier key.
// Only SHA-256 and Ed25519 from the noble libraries; the rest is the
// formats' bookkeeping.

import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { b64decode, b64decodeStrict, parseVkey, PAYLOAD_TYPE } from './crypto.js';

const te = new TextEncoder();
const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const eq = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

function cat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

// A signed note: {text (through its final '\n'), sigs: [{name, id, sig}]}.
export function parseNote(note) {
  const cut = note.indexOf('\n\n');
  if (cut < 0) throw new Error('not a signed note');
  const text = note.slice(0, cut + 1);
  const sigs = [];
  for (const line of note.slice(cut + 2).split('\n')) {
    if (!line) continue;
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m) throw new Error('malformed signature line');
    const raw = b64decodeStrict(m[2]);
    sigs.push({ name: m[1], id: hex(raw.subarray(0, 4)), sig: raw.subarray(4) });
  }
  return { text, sigs };
}

// A checkpoint note checked under the log's verifier key:
// {origin, size, root (bytes), cosigners (other signature names)}.
export function checkCheckpoint(note, vkey) {
  const { text, sigs } = parseNote(note);
  const k = parseVkey(vkey);
  const lines = text.split('\n');
  const [origin, sizeText, rootText] = lines;
  if (origin !== k.name) throw new Error(`checkpoint of ${origin}, not of ${k.name}`);
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeText)) throw new Error('bad checkpoint size');
  const root = b64decodeStrict(rootText);
  if (root.length !== 32) throw new Error('bad checkpoint root');
  const mine = sigs.find((s) => s.name === k.name && s.id === k.id);
  if (!mine || !ed25519.verify(mine.sig, te.encode(text), k.pk))
    throw new Error('the checkpoint is not signed by the node\'s log key');
  return { origin, size: Number(sizeText), root, cosigners: sigs.filter((s) => s !== mine).map((s) => s.name) };
}

// RFC 9162 section 2.1.3.2: does `proof` take `leaf` at `index` to `root`
// of a tree of `size` leaves?
function inclusionOk(index, size, leaf, proof, root) {
  if (index >= size) return false;
  let fn = index, sn = size - 1, r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = sha256(cat(Uint8Array.of(1), p, r));
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = sha256(cat(Uint8Array.of(1), r, p));
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && eq(r, root);
}

// The record's digest and log entry (specs/records.md).
export function recordEntry(envelope) {
  const payload = b64decode(envelope.payload);
  const t = te.encode(PAYLOAD_TYPE);
  const pae = cat(te.encode(`DSSEv1 ${t.length} `), t, te.encode(` ${payload.length} `), payload);
  const digest = hex(sha256(pae));
  return { digest, entry: `comity-record-v1:${digest}` };
}

// Checks a tlog-proof receipt for the envelope under the node's log key.
// Returns {index, size, origin, cosigners, digest}; throws with the reason.
export function checkReceipt(proofText, envelope, logVkey) {
  const cut = proofText.indexOf('\n\n');
  if (!proofText.startsWith('c2sp.org/tlog-proof@v1\n') || cut < 0) throw new Error('not a tlog-proof');
  const head = proofText.slice(0, cut).split('\n').slice(1);
  if (head[0] && head[0].startsWith('extra ')) head.shift();
  const m = /^index (0|[1-9][0-9]{0,15})$/.exec(head.shift() || '');
  if (!m) throw new Error('the receipt has no index');
  const index = Number(m[1]);
  const proof = head.map((l) => { const h = b64decodeStrict(l); if (h.length !== 32) throw new Error('bad proof hash'); return h; });
  const cp = checkCheckpoint(proofText.slice(cut + 2), logVkey);
  const { digest, entry } = recordEntry(envelope);
  const leaf = sha256(cat(Uint8Array.of(0), te.encode(entry)));
  if (!inclusionOk(index, cp.size, leaf, proof, cp.root))
    throw new Error('the record is not included in the checkpoint (proof does not match)');
  return { index, size: cp.size, origin: cp.origin, cosigners: cp.cosigners, digest };
}
