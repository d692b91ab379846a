// api.js: the session's state and the node's HTTP API, for every screen.
// S holds what lives only in this page's memory (the key, the party, the
// CSRF token, cached parties and node info); api() sends one request with
// the UI header and the CSRF token; receiptOf() waits for a receipt; send() builds, seals, signs and posts a
// record; readRecord() verifies a record and opens its sealed body here.
// Severity and sector of opened sealed messages stay in sessionStorage.
// The parties' keys are pinned on first sight (pins.js): nothing is sealed
// to a party whose key the node changed until the user accepts the change.

import * as C from './crypto.js';
import { go } from './router.js';
import { checkPins, acceptKey } from './pins.js';
import { t } from './i18n.js';

export const S = { key: null, party: null, role: null, csrf: null, parties: null, node: null, caseTypes: null };

export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.description ? body.description : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export async function api(method, path, body) {
  const headers = { 'X-Comity-UI': '1' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && S.csrf) headers['X-CSRF-Token'] = S.csrf;
  const r = await fetch(path, {
    method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const ct = r.headers.get('Content-Type') || '';
  const data = ct.startsWith('application/json') ? await r.json() : await r.text();
  if (!r.ok) {
    if (r.status === 401 && !path.startsWith('/v1/session')) { S.csrf = null; go('#/login'); }
    throw new ApiError(r.status, data);
  }
  return data;
}

// A record's receipt (its tlog-proof).  A record the node logged a moment
// ago is not under a checkpoint yet: the node answers 404 "receipt not yet
// available" with Retry-After, and this asks again for up to ten seconds,
// as `comity record receipt` does; onWait(), if given, is called once
// when it starts waiting (a screen says so).
export async function receiptOf(id, onWait) {
  const until = Date.now() + 10000;
  let waiting = false;
  for (;;) {
    try {
      return await api('GET', `/v1/records/${encodeURIComponent(id)}/receipt`);
    } catch (e) {
      const later = e.status === 404 && e.body && /not yet/.test(e.body.error || '');
      if (!later || Date.now() >= until) throw e;
      if (!waiting && onWait) onWait();
      waiting = true;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

// The node's list of parties, checked against this browser's pins: a
// party whose key changed carries `changed` (its pin).
export async function parties() {
  if (!S.parties) S.parties = checkPins((await api('GET', '/v1/parties')).parties);
  return S.parties;
}

// Accepts the key the node now gives for a party (it becomes the pin).
export async function acceptPartyKey(name) {
  acceptKey(name, await parties());
}


// Severity and sector of sealed messages, opened in this browser: kept in
// sessionStorage (this tab, until it closes), never sent to the node.
const SEALED_KEY = 'comity.sealed';
export function sealedFields() {
  try { return JSON.parse(sessionStorage.getItem(SEALED_KEY) || '{}'); } catch { return {}; }
}
export function rememberSealed(payload, body) {
  if (!body || (payload.type !== 'notification' && payload.type !== 'request')) return;
  const all = sealedFields();
  all[payload.id] = { severity: body.severity, sector: body.sector };
  try { sessionStorage.setItem(SEALED_KEY, JSON.stringify(all)); } catch { /* full or off: not shown */ }
}

export async function nodeInfo() {
  if (!S.node) S.node = await api('GET', '/v1/node');
  return S.node;
}

export async function readRecord(env) {
  const ps = await parties();
  const author = JSON.parse(new TextDecoder().decode(C.b64decode(env.payload))).author;
  const p = ps.find((x) => x.name === author);
  // a changed key is not trusted until accepted: check against the pin
  const { payload, verified } = C.readEnvelope(env, p && (p.changed ? p.changed.vkey : p.vkey));
  let body = payload.body, opened = false, openError = null;
  if (payload.sealed) {
    try { body = await C.open(S.key, payload.sealed); opened = true; } catch (e) { openError = e.message; }
    if (opened) rememberSealed(payload, body);
  }
  return { payload, verified, body, opened, openError };
}

// The age recipients a record or file to `to` is sealed to: every office
// of a bare state, each named party, and the author.
export async function recipientsFor(to) {
  const ps = await parties();
  const rcpts = [S.key.recipient];
  for (const name of to) {
    const hits = ps.filter((p) => p.name === name || (!name.includes('.') && p.name.split('.')[0] === name));
    if (!hits.length) throw new Error(`no registered party ${name} to seal to`);
    const changed = hits.filter((p) => p.changed);
    if (changed.length) throw new Error(t('webb_pin.refuse', { party: changed.map((p) => p.name).join(', ') }));
    for (const p of hits) rcpts.push(p.recipient);
  }
  return rcpts;
}

// Builds, seals when amber/red, signs and posts a record.  `to` names
// parties or bare states; a sealed body goes to every office of a bare
// state, to each named party and to the author.
export async function send(type, tlp, to, refs, body) {
  const created = new Date().toISOString();
  const payload = { type, id: C.newId(type, S.party), author: S.party, created, tlp };
  if (to.length) payload.to = to;
  if (refs.length) payload.refs = refs;
  if (tlp === 'clear' || tlp === 'green') payload.body = body;
  else payload.sealed = await C.seal(await recipientsFor(to), JSON.stringify(body));
  const env = C.signRecord(S.key, payload);
  const r = await api('POST', '/v1/records', env);
  return { id: payload.id, log_index: r.log_index };
}
