// crypto.js: everything secret happens here, in the browser, with
// well-kept libraries (@noble/curves for Ed25519, @noble/hashes for
// SHA-256, the age project's age-encryption for X25519 sealing); nothing
// here is hand-made cryptography, only the formats comity defines around
// them (specs/records.md):
//
//   key file      what `comity keygen` writes: '# signing key: PRIVATE+KEY+
//                 name+hexid+base64(0x01||seed)' and an AGE-SECRET-KEY-1 line
//   verifier key  name+hexid+base64(0x01||pk), key id = SHA-256(name || '\n'
//                 || 0x01 || pk)[:4] (c2sp.org/signed-note)
//   record        DSSE envelope, payloadType application/vnd.comity.record+json,
//                 Ed25519 over PAE(type, payload)
//   sealed body   a binary age file (standard base64) to every recipient and
//                 the author
//   login         a signed-note signature over the node's challenge text
//   registration  a signed-note signature over a text made here from the
//                 newcomer's own request (src/node/enrol.h)
//   new key       a key file as `comity keygen` writes it, made here
//
// The key object lives in memory only: it is never stored, never sent.

import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { Encrypter, Decrypter, identityToRecipient, generateX25519Identity, armor } from 'age-encryption';

export const PAYLOAD_TYPE = 'application/vnd.comity.record+json';
const te = new TextEncoder();
const td = new TextDecoder('utf-8', { fatal: true });

export function b64encode(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function b64decode(text) {
  const t = text.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(t + '==='.slice((t.length + 3) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

// Standard base64 as C2SP signed notes and tlog proofs write it: padded,
// and canonical (bits past the data zero), so that one value has one
// text; anything else throws, as the node's own decoder refuses it.
export function b64decodeStrict(text) {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4) throw new Error('not base64');
  const out = b64decode(text);
  if (b64encode(out) !== text) throw new Error('non-canonical base64');
  return out;
}

const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

function concat(...parts) {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export function keyId(name, pk) {
  return hex(sha256(concat(te.encode(name + '\n'), Uint8Array.of(1), pk)).subarray(0, 4));
}

export function vkeyText(name, pk) {
  return `${name}+${keyId(name, pk)}+${b64encode(concat(Uint8Array.of(1), pk))}`;
}

// Parses a verifier key; returns {name, id, pk} or throws.
export function parseVkey(text) {
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(text);
  if (!m) throw new Error('not a verifier key');
  const raw = b64decode(m[3]);
  if (raw.length !== 33 || raw[0] !== 1) throw new Error('not an Ed25519 verifier key');
  const pk = raw.subarray(1);
  if (keyId(m[1], pk) !== m[2]) throw new Error('verifier key id does not match its key');
  return { name: m[1], id: m[2], pk };
}

// Reads a comity key file (the text of `comity keygen`'s output file) and
// checks that its public lines match its secret keys, as the CLI does.
export async function parseKeyFile(text) {
  let signing = null, pub = null, rcpt = null, identity = null;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (!line) continue;
    if (line.startsWith('# signing key: ')) {
      if (signing) throw new Error('a second signing key line');
      signing = line.slice(15);
    } else if (line.startsWith('# public key: ')) pub = line.slice(14);
    else if (line.startsWith('# recipient: ')) rcpt = line.slice(13);
    else if (line.startsWith('#')) continue;
    else if (line.startsWith('AGE-SECRET-KEY-1')) {
      if (identity) throw new Error('more than one sealing identity');
      identity = line;
    } else throw new Error('not a comity key file (unexpected line)');
  }
  if (!signing) throw new Error("no '# signing key:' line: is this a comity key file?");
  if (!identity) throw new Error('no AGE-SECRET-KEY-1 line');
  const m = /^PRIVATE\+KEY\+([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(signing);
  if (!m) throw new Error('the signing key line is malformed');
  const raw = b64decode(m[3]);
  if (raw.length !== 33 || raw[0] !== 1) throw new Error('the signing key is not Ed25519');
  const seed = raw.slice(1);
  raw.fill(0);
  const pk = ed25519.getPublicKey(seed);
  const party = m[1];
  if (keyId(party, pk) !== m[2]) throw new Error('the signing key id does not match its key');
  const vkey = vkeyText(party, pk);
  if (pub && pub !== vkey) throw new Error("'# public key:' does not match the signing key");
  const recipient = await identityToRecipient(identity);
  if (rcpt && rcpt !== recipient) throw new Error("'# recipient:' does not match the sealing key");
  return { party, keyid: m[2], seed, pk, vkey, identity, recipient };
}

// A key file protected with a passphrase is an age file (armored or not)
// whose plaintext is the key file: `age -p -a -o pk.mofa.key.age pk.mofa.key`.
export function isProtected(bytes) {
  const head = new TextDecoder().decode(bytes.subarray(0, 40));
  return head.startsWith('-----BEGIN AGE ENCRYPTED FILE-----') || head.startsWith('age-encryption.org/v1\n');
}

// The key file's text: opened with the passphrase when protected.
export async function keyFileText(bytes, passphrase) {
  if (!isProtected(bytes)) return td.decode(bytes);
  if (!passphrase) throw new Error('this key file is protected: give its passphrase');
  const text = td.decode(bytes);
  const d = new Decrypter();
  d.addPassphrase(passphrase);
  try {
    return await d.decrypt(text.startsWith('-----BEGIN') ? armor.decode(text) : bytes, 'text');
  } catch {
    throw new Error('wrong passphrase, or not a protected key file');
  }
}

// The node's login challenge must be exactly this shape: the key signs
// nothing else (never a record, never text of the node's choosing).
const CHALLENGE = /^comity login v1\nnode: [\x21-\x7e]{1,128}\nparty: ([a-z0-9.-]{1,64})\nnonce: [0-9a-f]{32}\nexpires: [0-9TZ:.-]{20,30}\n$/;

export function signChallenge(key, text) {
  const m = CHALLENGE.exec(text);
  if (!m || m[1] !== key.party) throw new Error('the node sent a login challenge of an unexpected form');
  return b64encode(ed25519.sign(te.encode(text), key.seed));
}

function pae(type, payload) {
  const t = te.encode(type);
  return concat(te.encode(`DSSEv1 ${t.length} `), t, te.encode(` ${payload.length} `), payload);
}

// Signs a record payload object: the DSSE envelope as JSON text.
export function signRecord(key, payloadObj) {
  const payload = te.encode(JSON.stringify(payloadObj));
  const sig = ed25519.sign(pae(PAYLOAD_TYPE, payload), key.seed);
  return JSON.stringify({
    payload: b64encode(payload),
    payloadType: PAYLOAD_TYPE,
    signatures: [{ keyid: key.keyid, sig: b64encode(sig) }],
  });
}

// Reads an envelope: {payload (object), verified (true when a signature
// verifies under vkey)}.
export function readEnvelope(envelope, vkey) {
  const env = typeof envelope === 'string' ? JSON.parse(envelope) : envelope;
  if (env.payloadType !== PAYLOAD_TYPE) throw new Error('not a comity record');
  const payload = b64decode(env.payload);
  let verified = false;
  if (vkey) {
    const { pk } = parseVkey(vkey);
    const msg = pae(PAYLOAD_TYPE, payload);
    for (const s of env.signatures || []) {
      try { if (ed25519.verify(b64decode(s.sig), msg, pk)) verified = true; } catch { /* next */ }
    }
  }
  return { payload: JSON.parse(td.decode(payload)), verified };
}

// Seals the body text to the age recipients: standard base64 of the age file.
export async function seal(recipients, bodyText) {
  const e = new Encrypter();
  for (const r of new Set(recipients)) e.addRecipient(r);
  return b64encode(await e.encrypt(te.encode(bodyText)));
}

// Opens a sealed body with the key's identity; the plaintext JSON object.
export async function open(key, sealedB64) {
  const d = new Decrypter();
  d.addIdentity(key.identity);
  return JSON.parse(await d.decrypt(b64decode(sealedB64), 'text'));
}

// A record id "<type>--<uuid v4>" bound to its author, as the node checks
// (rule id-author; src/record/id.c has the derivation): eight random bytes,
// then the first eight of SHA-256("comity-record-id-v1" 0 author 0 those
// eight), with the UUID's version and variant bits set.
export function newId(type, author) {
  const te = new TextEncoder();
  const u = new Uint8Array(16);
  crypto.getRandomValues(u.subarray(0, 8));
  u[6] = (u[6] & 0x0f) | 0x40;
  const dom = te.encode('comity-record-id-v1');
  const who = te.encode(author);
  const msg = new Uint8Array(dom.length + 1 + who.length + 1 + 8);
  msg.set(dom, 0);
  msg.set(who, dom.length + 1);
  msg.set(u.subarray(0, 8), dom.length + 1 + who.length + 1);
  u.set(sha256(msg).subarray(0, 8), 8);
  u[8] = (u[8] & 0x3f) | 0x80;
  const hex = Array.from(u, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${type}--${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// A new key for `party`, made here (Ed25519 seed and X25519 identity from
// the browser's CSPRNG, through the two libraries): {key, text}, where key
// is what parseKeyFile returns and text the key file `comity keygen`
// writes (src/crypto/key.c), to be saved by the user.
export async function newKeyFile(party) {
  const seed = ed25519.utils.randomSecretKey();
  const pk = ed25519.getPublicKey(seed);
  const identity = await generateX25519Identity();
  const recipient = await identityToRecipient(identity);
  const keyid = keyId(party, pk);
  const text = `# comity party key for ${party}, created ${new Date().toISOString()}\n`
    + `# public key: ${vkeyText(party, pk)}\n# recipient: ${recipient}\n`
    + `# signing key: PRIVATE+KEY+${party}+${keyid}+${b64encode(concat(Uint8Array.of(1), seed))}\n`
    + `${identity}\n`;
  seed.fill(0);
  return { text, key: await parseKeyFile(text) };
}

// The key file's text protected with a passphrase: an armored age scrypt
// file, which keyFileText opens (as `age -p -a` writes).
export async function protectKeyFile(text, passphrase) {
  const e = new Encrypter();
  e.setPassphrase(passphrase);
  return armor.encode(await e.encrypt(text));
}

// The registration request's text, exactly as the node rebuilds it
// (src/node/enrol.h): the key signs only what this function makes from
// its own fields, never text the node chose.
export function registrationText(origin, req) {
  return `comity registration v1\nnode: ${origin}\nparty: ${req.party}\nvkey: ${req.vkey}\n`
    + `recipient: ${req.recipient}\ncreated: ${req.created}\nnote: ${req.note}\n`;
}

// A signed registration request for the node `origin`: the body of POST
// /v1/registrations.  The note is one line (control characters refused
// here as the node refuses them).
export function signRegistration(key, origin, note) {
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(note)) throw new Error('the note must be one line of text');
  const req = { party: key.party, vkey: key.vkey, recipient: key.recipient, created: new Date().toISOString(), note };
  const signature = b64encode(ed25519.sign(te.encode(registrationText(origin, req)), key.seed));
  return { ...req, signature };
}
