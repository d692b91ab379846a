// receipt.js: checking a record's receipt (c2sp.org/tlog-proof) and the
// node's checkpoint (c2sp.org/tlog-checkpoint, a signed note) in the
// browser, against the node's log key, as `comity record verify
// --receipt` does offline (docs/tlog.md):
//   envelope -> digest = SHA-256(PAE(type, payload)) -> entry
//   "comity-record-v1:<hex digest>" -> leaf hash SHA-256(0x00 || entry)
//   -> RFC 9162 inclusion proof -> root of the checkpoint -> the
//   checkpoint's Ed25519 signature under the node's verifier key.
// With the node's witness policy (GET /v1/node's witness_policy, a
// c2sp.org/tlog-policy file the operator keeps as DIR/witness.policy), each
// cosignature by a listed witness is checked here too (c2sp.org/
// tlog-cosignature: Ed25519 over "cosignature/v1\ntime T\n" and the
// checkpoint's text) and the quorum evaluated as src/tlog/policy.c does:
// a witness is satisfied by a cosignature that verifies, a group by k of
// its members; a cosignature by a listed witness that does not verify
// refuses the checkpoint outright (the signed-note rule).
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

// A cosigning (c2sp.org/tlog-cosignature, type 0x04) verifier key:
// NAME+ID+base64(0x04 || key), ID = SHA-256(NAME || '\n' || 0x04 || key)[:4].
export function parseWitnessVkey(text) {
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(text);
  if (!m) throw new Error('not a verifier key');
  const raw = b64decodeStrict(m[3]);
  if (raw.length !== 33 || raw[0] !== 4) throw new Error('not a witness (cosignature) key');
  const pk = raw.subarray(1);
  const id = hex(sha256(cat(te.encode(`${m[1]}\n`), raw)).subarray(0, 4));
  if (id !== m[2]) throw new Error('witness key id does not match its key');
  return { name: m[1], id, pk };
}

// Parses a c2sp.org/tlog-policy text by src/tlog/policy.c's rules:
// {witnesses: [{name, id, pk}], names: Map(name -> {witness} | {group: {k,
// members}}), quorum: a name or null (none)}.  Throws naming the line.
// `log` lines are accepted and ignored: the log key is the node's own.
export function parsePolicy(text) {
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(text.replace(/\n/g, ''))) throw new Error('policy: a control character');
  if (text && !text.endsWith('\n')) throw new Error('policy: the last line lacks its newline');
  const witnesses = [], names = new Map();
  let quorum;
  const define = (name, v, n) => {
    if (name === 'none' || names.has(name)) throw new Error(`policy line ${n}: name '${name}' is ${name === 'none' ? 'reserved' : 'already defined'}`);
    names.set(name, v);
  };
  text.split('\n').slice(0, -1).forEach((line, i) => {
    const n = i + 1;
    const f = line.split(/[ \t]+/).filter(Boolean);
    if (!f.length || f[0].startsWith('#')) return;
    if (f[0] === 'log') {
      if (f.length < 2 || f.length > 3) throw new Error(`policy line ${n}: want 'log <vkey> [url]'`);
    } else if (f[0] === 'witness') {
      if (f.length < 3 || f.length > 4) throw new Error(`policy line ${n}: want 'witness <name> <vkey> [url]'`);
      let k;
      try { k = parseWitnessVkey(f[2]); } catch (e) { throw new Error(`policy line ${n}: ${e.message}`); }
      if (witnesses.some((w) => eq(w.pk, k.pk))) throw new Error(`policy line ${n}: duplicate witness key`);
      const w = { ...k, name: f[1], keyName: k.name };
      define(f[1], { witness: w }, n);
      witnesses.push(w);
    } else if (f[0] === 'group') {
      if (f.length < 4) throw new Error(`policy line ${n}: want 'group <name> <k|all|any> <member>...'`);
      const members = f.slice(3);
      const k = f[2] === 'all' ? members.length : f[2] === 'any' ? 1 : /^[0-9]{1,9}$/.test(f[2]) ? Number(f[2]) : 0;
      if (k < 1 || k > members.length) throw new Error(`policy line ${n}: threshold must be all, any, or 1 to ${members.length}`);
      members.forEach((m, j) => {
        if (!names.has(m)) throw new Error(`policy line ${n}: '${m}' is not defined above`);
        if (members.indexOf(m) !== j) throw new Error(`policy line ${n}: member '${m}' listed twice`);
      });
      define(f[1], { group: { k, members } }, n);
    } else if (f[0] === 'quorum') {
      if (f.length !== 2) throw new Error(`policy line ${n}: want 'quorum <name>'`);
      if (quorum !== undefined) throw new Error(`policy line ${n}: a second quorum line`);
      if (f[1] !== 'none' && !names.has(f[1])) throw new Error(`policy line ${n}: '${f[1]}' is not defined above`);
      quorum = f[1] === 'none' ? null : f[1];
    } else throw new Error(`policy line ${n}: unknown keyword '${f[0].slice(0, 32)}' (want log, witness, group, quorum)`);
  });
  if (quorum === undefined) throw new Error('policy: no quorum line');
  return { witnesses, names, quorum };
}

// A group's threshold in words the UI can show: "2 of w1, w2".
function describe(policy, name) {
  const v = policy.names.get(name);
  if (!v || v.witness) return name;
  return `${v.group.k} of ${v.group.members.map((m) => describe(policy, m)).join(', ')}`;
}

// The cosignatures of a parsed note checked under `policy`: {quorum (its
// name, null for none), need (the quorum in words), met, verified (names of
// the policy's witnesses whose cosignature verified, with their times in
// seconds), others (names of signatures by keys the policy does not list)}.
// Throws when a listed witness's cosignature does not verify.
export function checkWitnesses(text, sigs, policy, logSig) {
  const verified = [], others = [];
  const ok = new Set();
  for (const s of sigs) {
    if (s === logSig) continue;
    const w = policy.witnesses.find((x) => x.keyName === s.name && x.id === s.id);
    if (!w) { others.push(s.name); continue; }
    if (s.sig.length !== 72) throw new Error(`the cosignature by ${w.name} does not verify`);
    let t = 0n;
    for (const b of s.sig.subarray(0, 8)) t = (t << 8n) | BigInt(b);
    const msg = cat(te.encode(`cosignature/v1\ntime ${t}\n`), te.encode(text));
    if (t > 0x7fffffffffffffffn || !ed25519.verify(s.sig.subarray(8), msg, w.pk))
      throw new Error(`the cosignature by ${w.name} does not verify`);
    if (!ok.has(w.name)) verified.push({ name: w.name, time: Number(t) });
    ok.add(w.name);
  }
  const sat = (name) => {
    const v = policy.names.get(name);
    if (v.witness) return ok.has(name);
    return v.group.members.filter(sat).length >= v.group.k;
  };
  const met = policy.quorum === null || sat(policy.quorum);
  return { quorum: policy.quorum, need: policy.quorum === null ? 'none' : describe(policy, policy.quorum), met, verified, others };
}

// A checkpoint note checked under the log's verifier key:
// {origin, size, root (bytes), cosigners (other signature names), and,
// given a witness policy (text), witnesses: checkWitnesses' answer}.
export function checkCheckpoint(note, vkey, policyText) {
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
  const out = { origin, size: Number(sizeText), root, cosigners: sigs.filter((s) => s !== mine).map((s) => s.name) };
  if (policyText) out.witnesses = checkWitnesses(text, sigs, parsePolicy(policyText), mine);
  return out;
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

// Checks a tlog-proof receipt for the envelope under the node's log key
// (and, given the node's witness policy text, its cosignatures and quorum).
// Returns {index, size, origin, cosigners, digest, witnesses?}; throws with
// the reason.
export function checkReceipt(proofText, envelope, logVkey, policyText) {
  const cut = proofText.indexOf('\n\n');
  if (!proofText.startsWith('c2sp.org/tlog-proof@v1\n') || cut < 0) throw new Error('not a tlog-proof');
  const head = proofText.slice(0, cut).split('\n').slice(1);
  if (head[0] && head[0].startsWith('extra ')) head.shift();
  const m = /^index (0|[1-9][0-9]{0,15})$/.exec(head.shift() || '');
  if (!m) throw new Error('the receipt has no index');
  const index = Number(m[1]);
  const proof = head.map((l) => { const h = b64decodeStrict(l); if (h.length !== 32) throw new Error('bad proof hash'); return h; });
  const cp = checkCheckpoint(proofText.slice(cut + 2), logVkey, policyText);
  const { digest, entry } = recordEntry(envelope);
  const leaf = sha256(cat(Uint8Array.of(0), te.encode(entry)));
  if (!inclusionOk(index, cp.size, leaf, proof, cp.root))
    throw new Error('the record is not included in the checkpoint (proof does not match)');
  return { index, size: cp.size, origin: cp.origin, cosigners: cp.cosigners, digest, witnesses: cp.witnesses };
}
