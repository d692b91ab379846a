// app.js: comity's web UI.  A client of the node's HTTP API, like the
// `comity` command: it signs, seals and opens records here in the browser
// (crypto.js) and posts them to POST /v1/records.  Screens (hash routes):
//   #/login            load the key file, log in (challenge signed here)
//   #/inbox            awaiting you / awaiting others, overdue then due first
//   #/message/ID       a message, its thread, the actions allowed now
//   #/compose/TYPE     a notification or a request
//   #/compose/ping     a communication check (ping) to contacts
//   #/pings            response statistics of pings
//   #/directory        every state's contacts; your state's: nominate, withdraw
//   #/log              the node's log: checkpoint checked here
// Text comes from the catalogs of i18n.js (the shell, inbox, message and
// compose screens; the others are English only so far).
// Every control has a label and works from the keyboard; each screen
// focuses its heading when shown, and messages go to a live region.

import { h, render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import htm from 'htm';
import * as C from './crypto.js';
import * as V from './validate.js';
import * as R from './receipt.js';
import { t, LANGS, setLang, current, initLang } from './i18n.js';
import { Alerts } from './alerts.js';

const html = htm.bind(h);

// ---- state that lives only in this page's memory -------------------------
const S = { key: null, party: null, csrf: null, parties: null, node: null };

class ApiError extends Error {
  constructor(status, body) {
    super(body && body.description ? body.description : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function api(method, path, body) {
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

async function parties() {
  if (!S.parties) S.parties = (await api('GET', '/v1/parties')).parties;
  return S.parties;
}

function go(hash) {
  if (location.hash !== hash) location.hash = hash;
  else window.dispatchEvent(new HashChangeEvent('hashchange'));
}

// Times: in the user's time zone and language; UTC in the title (hover),
// and shown after the time when it has the keyboard focus (style.css).
function Time({ t: at }) {
  if (!at) return html`<span>—</span>`;
  const d = new Date(at);
  const utc = `UTC ${d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, '')}`;
  return html`<time datetime=${at} title=${utc} data-utc=${utc} tabindex="0">${d.toLocaleString(current())}</time>`;
}

// Severity and sector of sealed messages, opened in this browser: kept in
// sessionStorage (this tab, until it closes), never sent to the node.
const SEALED_KEY = 'comity.sealed';
function sealedFields() {
  try { return JSON.parse(sessionStorage.getItem(SEALED_KEY) || '{}'); } catch { return {}; }
}
function rememberSealed(payload, body) {
  if (!body || (payload.type !== 'notification' && payload.type !== 'request')) return;
  const all = sealedFields();
  all[payload.id] = { severity: body.severity, sector: body.sector };
  try { sessionStorage.setItem(SEALED_KEY, JSON.stringify(all)); } catch { /* full or off: not shown */ }
}

function Screen({ title, children }) {
  const ref = useRef(null);
  useEffect(() => { document.title = `${title} · comity`; ref.current && ref.current.focus(); }, [title]);
  return html`<section aria-labelledby="screen-title">
    <h1 id="screen-title" tabindex="-1" ref=${ref}>${title}</h1>${children}</section>`;
}

function Status({ msg }) {
  if (!msg) return null;
  return html`<p class=${msg.error ? 'msg error' : 'msg ok'} role=${msg.error ? 'alert' : 'status'}>${msg.text}</p>`;
}

// ---- login ---------------------------------------------------------------

function Login() {
  const [msg, setMsg] = useState(null);
  const [busy, setBusy] = useState(false);
  async function submit(ev) {
    ev.preventDefault();
    const f = ev.target.elements.keyfile.files[0];
    if (!f) { setMsg({ error: true, text: 'Choose your key file first.' }); return; }
    setBusy(true);
    try {
      const pass = ev.target.elements.passphrase.value;
      const key = await C.parseKeyFile(await C.keyFileText(new Uint8Array(await f.arrayBuffer()), pass));
      ev.target.elements.passphrase.value = '';
      const ch = await api('POST', '/v1/session/challenge', { party: key.party });
      const signature = C.signChallenge(key, ch.challenge);
      const s = await api('POST', '/v1/session', { party: key.party, nonce: ch.nonce, signature });
      Object.assign(S, { key, party: s.party, csrf: s.csrf, parties: null });
      go('#/inbox');
    } catch (e) {
      setMsg({ error: true, text: `Login failed: ${e.message}` });
    } finally { setBusy(false); }
  }
  return html`<${Screen} title="Log in">
    <p>Load your party's key file (the one <code>comity keygen</code> wrote). It stays in this
      browser: the node only sees a signature proving you hold it.</p>
    <form onSubmit=${submit}>
      <div class="field"><label for="keyfile">Key file</label>
        <input id="keyfile" name="keyfile" type="file" aria-describedby="keyfile-help" />
        <p id="keyfile-help" class="help">For example pk.mofa.key</p></div>
      <div class="field"><label for="passphrase">Passphrase (only for a protected key file)</label>
        <input id="passphrase" name="passphrase" type="password" autocomplete="current-password"
          aria-describedby="passphrase-help" />
        <p id="passphrase-help" class="help">A key file protected with <code>age -p</code>: it is opened here, in this browser.</p></div>
      <button type="submit" disabled=${busy}>Log in</button>
    </form>
    <${Status} msg=${msg} />
  <//>`;
}

// ---- inbox ---------------------------------------------------------------

function sortItems(items) {
  return [...items].sort((a, b) => (b.overdue - a.overdue) ||
    ((a.due ? Date.parse(a.due) : Infinity) - (b.due ? Date.parse(b.due) : Infinity)));
}

// A cell the node could not fill because the body is sealed: the value
// opened in this browser, marked, or a dash that says why.
function SealedCell({ v }) {
  if (v === undefined) return html`<td><span title=${t('sealed.unknown')}>—</span></td>`;
  return html`<td>${v} <small class="sealed" title=${t('sealed.opened')}>(${t('sealed')})</small></td>`;
}

// A page of PAGE rows at a time from the node (?limit=PAGE, then after= the
// list's cursor): the filters and the search apply to the rows loaded.
const PAGE = 50;

function Items({ id, caption, items, empty, loaded, total, more }) {
  const button = more && html`<p><button type="button" onClick=${more}>
      ${t('inbox.more', { n: Math.min(PAGE, total - loaded), shown: loaded, total })}</button></p>`;
  if (!items.length) return html`<h2 id=${id}>${caption}</h2><p class="empty">${empty}</p>${button}`;
  const rows = sortItems(items);
  return html`<h2 id=${id}>${caption}</h2>
    <div class="table-wrap"><table class="inbox" aria-labelledby=${id}><thead><tr>
      <th scope="col">${t('col.due')}</th><th scope="col">${t('col.message')}</th><th scope="col">${t('col.from')}</th>
      <th scope="col">${t('col.to')}</th><th scope="col">${t('col.state')}</th><th scope="col">${t('col.expects')}</th>
      <th scope="col">${t('col.severity')}</th><th scope="col">${t('col.sector')}</th></tr></thead>
    <tbody>${rows.map((it) => html`<tr class=${it.overdue ? 'overdue' : ''}>
      <td>${it.overdue ? html`<strong class="badge">${t('overdue')}</strong> ` : ''}<${Time} t=${it.due} /></td>
      <td><a href=${`#/message/${it.id}`}>${it.type} ${it.id.split('--')[1].slice(0, 8)}</a></td>
      <td>${it.from}</td><td>${it.to}</td><td>${it.state}</td><td>${it.expects || '—'}</td>
      ${it.sealed ? html`<${SealedCell} v=${it.severity} /><${SealedCell} v=${it.sector} />`
        : html`<td>${it.severity || '—'}</td><td>${it.sector || '—'}</td>`}</tr>`)}</tbody></table></div>
    ${button}`;
}

// The node's items, with what this browser opened of sealed ones: an item
// of a type whose severity is required (notification) or that this
// browser opened sealed, and without a clear severity, is sealed.
function withSealed(items, opened) {
  return items.map((it) => {
    const o = opened[it.id];
    if (o) return { ...it, sealed: true, severity: o.severity, sector: o.sector };
    if (!it.severity && it.type === 'notification') return { ...it, sealed: true, severity: undefined, sector: undefined };
    return it;
  });
}

const STATES = ['sent', 'delivered', 'acknowledged', 'answered', 'declined', 'closed'];

function Inbox() {
  const [data, setData] = useState(null);
  const [msg, setMsg] = useState(null);
  const [f, setF] = useState({ type: '', state: '', severity: '', sector: '', q: '' });
  useEffect(() => {
    api('GET', `/v1/framework/inbox?limit=${PAGE}`).then(setData, (e) => setMsg({ error: true, text: e.message }));
  }, []);
  // the next page of one list ('me' or 'others'), after its cursor
  const more = (box) => data && data[`next_${box}`] && (() =>
    api('GET', `/v1/framework/inbox?limit=${PAGE}&after=${encodeURIComponent(data[`next_${box}`])}`).then(
      (p) => setData((d) => ({ ...d, [`awaiting_${box}`]: [...d[`awaiting_${box}`], ...p[`awaiting_${box}`]],
        [`next_${box}`]: p[`next_${box}`], [`total_${box}`]: p[`total_${box}`] })),
      (e) => setMsg({ error: true, text: e.message })));
  const q = f.q.trim().toLowerCase();
  const keep = (it) => (!f.type || it.type === f.type) && (!f.state || it.state === f.state) &&
    (!f.severity || String(it.severity) === f.severity) && (!f.sector || it.sector === f.sector) &&
    (!q || [it.id, it.from, it.to].some((x) => x && x.toLowerCase().includes(q)));
  const opened = sealedFields();
  const me = data ? withSealed(data.awaiting_me, opened) : [];
  const others = data ? withSealed(data.awaiting_others, opened) : [];
  const set = (k) => (ev) => setF({ ...f, [k]: ev.target.value });
  const sel = (id, k, values) => html`<div class="field"><label for=${id}>${t(`inbox.${k}`)}</label>
    <select id=${id} value=${f[k]} onChange=${set(k)}><option value="">${t('all')}</option>
      ${values.map((x) => html`<option value=${x}>${x}</option>`)}</select></div>`;
  return html`<${Screen} title=${t('inbox.title')}>
    <form class="filters" role="search" aria-label=${t('inbox.filters')} onSubmit=${(e) => e.preventDefault()}>
      ${sel('f-type', 'type', ['notification', 'request', 'ping'])}
      ${sel('f-state', 'state', STATES)}
      ${sel('f-severity', 'severity', ['1', '2', '3', '4', '5'])}
      ${sel('f-sector', 'sector', V.SECTORS)}
      <div class="field"><label for="f-q">${t('inbox.search')}</label>
        <input id="f-q" type="search" value=${f.q} onInput=${set('q')} /></div>
    </form>
    <${Status} msg=${msg} />
    ${data ? html`
      <${Items} id="awaiting-me" caption=${t('inbox.me')} items=${me.filter(keep)}
        empty=${me.length ? t('inbox.nomatch') : t('inbox.empty.me')}
        loaded=${me.length} total=${data.total_me} more=${more('me')} />
      <${Items} id="awaiting-others" caption=${t('inbox.others')} items=${others.filter(keep)}
        empty=${others.length ? t('inbox.nomatch') : t('inbox.empty.others')}
        loaded=${others.length} total=${data.total_others} more=${more('others')} />` : !msg && html`<p>${t('loading')}</p>`}
  <//>`;
}

// ---- the directory and the log --------------------------------------------

function PocForm({ done }) {
  const [errs, setErrs] = useState({});
  const [msg, setMsg] = useState(null);
  const state = S.party.split('.')[0];
  async function submit(ev) {
    ev.preventDefault();
    const f = ev.target.elements;
    const v = (n) => f[n].value.trim() || undefined;
    const body = {
      kind: v('kind'), organisation: v('organisation'), name: v('name'), title: v('title'),
      channels: (f.channels.value || '').split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
        const i = l.indexOf(':');
        return i < 0 ? { type: l, value: '' } : { type: l.slice(0, i).trim(), value: l.slice(i + 1).trim() };
      }),
      time_zone: v('time_zone'),
      languages: (f.languages.value || '').split(/[\s,]+/).filter(Boolean),
      party: v('party'),
      valid_from: new Date().toISOString(),
    };
    for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
    const e = V.checkPoc(body);
    setErrs(e);
    if (Object.keys(e).length) { setMsg({ error: true, text: `Not sent: ${Object.keys(e).length} field(s) to fix.` }); return; }
    try {
      const r = await send('poc', 'green', [], [], body);
      setMsg({ text: `Contact published (log index ${r.log_index}).` });
      ev.target.reset();
      done();
    } catch (err) { setMsg({ error: true, text: `The node refused it: ${err.message}` }); }
  }
  return html`<h2>Nominate or update a contact of ${state}</h2>
    <p>A signed poc record, readable by every party (TLP:GREEN). It replaces your state's current contact of that kind.</p>
    <form onSubmit=${submit} novalidate>
      <${Field} id="kind" label="Contact kind" errs=${errs}>${Select('', V.POC_KINDS, 'Choose…')}<//>
      <${Field} id="organisation" label="Organisation" errs=${errs}>${(a) => html`<input ...${a} />`}<//>
      <${Field} id="name" label="Name (optional)" errs=${errs}>${(a) => html`<input ...${a} />`}<//>
      <${Field} id="title" label="Title (optional)" errs=${errs}>${(a) => html`<input ...${a} />`}<//>
      <${Field} id="channels" label="Channels, one a line (type:value)" errs=${errs}
        help="email:soc@example.gov, phone:+33 1 23 45 67 89, url:https://..., comity:fr.anssi">
        ${(a) => html`<textarea ...${a} rows="3"></textarea>`}<//>
      <${Field} id="time_zone" label="Time zone" errs=${errs} help="UTC or Area/Location, e.g. Europe/Paris">${(a) => html`<input ...${a} />`}<//>
      <${Field} id="languages" label="Languages" errs=${errs} help="e.g. en, fr">${(a) => html`<input ...${a} />`}<//>
      <${Field} id="party" label="The contact's comity party (optional)" errs=${errs}>${(a) => html`<input ...${a} />`}<//>
      <button type="submit">Sign and publish</button>
    </form>
    <${Status} msg=${msg} />`;
}

function Directory() {
  const [data, setData] = useState(null);
  const [msg, setMsg] = useState(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    api('GET', '/v1/directory').then(setData, (e) => setMsg({ error: true, text: e.message }));
  }, [tick]);
  const mine = S.party.split('.')[0];
  async function withdraw(kind) {
    try {
      const r = await send('poc', 'green', [], [], { state: mine, kind, withdrawn: true });
      setMsg({ text: `Withdrew the ${kind} contact of ${mine} (log index ${r.log_index}).` });
      setTick(tick + 1);
    } catch (e) { setMsg({ error: true, text: `Not withdrawn: ${e.message}` }); }
  }
  const rows = data ? data.entries.filter((e) => e.current) : [];
  return html`<${Screen} title="Directory">
    <${Status} msg=${msg} />
    ${data && (rows.length ? html`<div class="table-wrap" role="region" aria-label="Points of contact" tabindex="0"><table><thead><tr>
        <th scope="col">State</th><th scope="col">Kind</th><th scope="col">Organisation</th>
        <th scope="col">Contact</th><th scope="col">Channels</th><th scope="col">Time zone</th>
        <th scope="col">Languages</th><th scope="col">Changes</th><th scope="col">Action</th></tr></thead>
      <tbody>${rows.map((e) => { const b = e.current.body; return html`<tr>
        <td>${e.state}</td><td>${e.kind}</td><td>${b.organisation}</td>
        <td>${[b.name, b.title].filter(Boolean).join(', ') || '—'}</td>
        <td><ul class="plain">${(b.channels || []).map((c) => html`<li>${c.type}: ${c.value}</li>`)}</ul></td>
        <td>${b.time_zone}</td><td>${(b.languages || []).join(', ')}</td>
        <td>${e.history.length}</td>
        <td>${e.state === mine ? html`<button type="button" onClick=${() => withdraw(e.kind)}
          aria-label=${`Withdraw the ${e.kind} contact of ${e.state}`}>Withdraw</button>` : '—'}</td></tr>`; })}</tbody></table></div>`
      : html`<p class="empty">No state has registered a contact yet.</p>`)}
    <${PocForm} done=${() => setTick(tick + 1)} />
  <//>`;
}

async function nodeInfo() {
  if (!S.node) S.node = await api('GET', '/v1/node');
  return S.node;
}

function Log() {
  const [st, setSt] = useState(null);
  const [msg, setMsg] = useState(null);
  useEffect(() => {
    (async () => {
      const n = await nodeInfo();
      S.node = null; // the checkpoint moves: fetch it again next time
      if (!n.checkpoint) throw new Error('the node has no checkpoint yet');
      setSt({ n, cp: R.checkCheckpoint(n.checkpoint, n.vkey) });
    })().catch((e) => setMsg({ error: true, text: e.message }));
  }, []);
  return html`<${Screen} title="Log">
    <${Status} msg=${msg} />
    ${st && html`<dl class="body">
      <dt>Origin</dt><dd>${st.cp.origin}</dd>
      <dt>Entries</dt><dd>${st.cp.size}</dd>
      <dt>Root hash</dt><dd><code>${C.b64encode(st.cp.root)}</code></dd>
      <dt>Log key</dt><dd><code>${st.n.vkey}</code></dd>
      <dt>Checkpoint</dt><dd>signature verified in this browser under the log key</dd>
      <dt>Witness cosignatures</dt><dd>${st.cp.cosigners.length ? st.cp.cosigners.join(', ') : 'none'}</dd>
    </dl>`}
  <//>`;
}

// ---- a message and its thread -------------------------------------------

async function readRecord(env) {
  const ps = await parties();
  const author = JSON.parse(new TextDecoder().decode(C.b64decode(env.payload))).author;
  const p = ps.find((x) => x.name === author);
  const { payload, verified } = C.readEnvelope(env, p && p.vkey);
  let body = payload.body, opened = false, openError = null;
  if (payload.sealed) {
    try { body = await C.open(S.key, payload.sealed); opened = true; } catch (e) { openError = e.message; }
    if (opened) rememberSealed(payload, body);
  }
  return { payload, verified, body, opened, openError };
}

function Body({ rec }) {
  if (rec.openError) return html`<p class="msg error" role="alert">${t('msg.cannotopen', { why: rec.openError })}</p>`;
  const b = rec.body || {};
  return html`<dl class="body">${Object.keys(b).map((k) => html`<dt>${k}</dt>
    <dd>${typeof b[k] === 'object' ? JSON.stringify(b[k]) : String(b[k])}</dd>`)}</dl>`;
}

function RecordHead({ rec }) {
  const p = rec.payload;
  const how = [`TLP:${p.tlp.toUpperCase()}`, rec.opened && t('msg.opened'),
    rec.verified ? t('msg.verified') : t('msg.unverified')].filter(Boolean).join(', ');
  return html`<p class="meta">${t('msg.from')} <strong>${p.author}</strong> ${t('msg.to')} ${(p.to || []).join(', ') || '—'}${', '}<${Time} t=${p.created} />${', '}${how}</p>`;
}

// Builds, seals when amber/red, signs and posts a record.  `to` names
// parties or bare states; a sealed body goes to every office of a bare
// state, to each named party and to the author.
async function send(type, tlp, to, refs, body) {
  const created = new Date().toISOString();
  const payload = { type, id: C.newId(type), author: S.party, created, tlp };
  if (to.length) payload.to = to;
  if (refs.length) payload.refs = refs;
  if (tlp === 'clear' || tlp === 'green') payload.body = body;
  else {
    const ps = await parties();
    const rcpts = [S.key.recipient];
    for (const t of to) {
      const hits = ps.filter((p) => p.name === t || (!t.includes('.') && p.name.split('.')[0] === t));
      if (!hits.length) throw new Error(`no registered party ${t} to seal to`);
      for (const p of hits) rcpts.push(p.recipient);
    }
    payload.sealed = await C.seal(rcpts, JSON.stringify(body));
  }
  const env = C.signRecord(S.key, payload);
  const r = await api('POST', '/v1/records', env);
  return { id: payload.id, log_index: r.log_index };
}

function Actions({ status, msgRec, reload }) {
  const me = S.party;
  const [msg, setMsg] = useState(null);
  const [outcome, setOutcome] = useState('answered');
  const [errs, setErrs] = useState({});
  const slot = (status.slots || []).find((s) => s.party === me ||
    (!s.party.includes('.') && s.party === me.split('.')[0]));
  const p = msgRec.payload;
  const ping = p.type === 'ping';
  const mine = p.author === me && !ping; // a ping is not closed
  const open = status.state !== 'closed';
  const fresh = open && slot && (slot.state === 'sent' || slot.state === 'delivered');
  // what the framework allows now (docs/framework.md, the status machine)
  const canPong = ping && fresh;
  const canAck = !ping && fresh;
  const canReply = !ping && open && slot && ['sent', 'delivered', 'acknowledged'].includes(slot.state);
  async function act(type, body) {
    try {
      const r = await send(type, p.tlp, [p.author], [p.id], body);
      setMsg({ text: t('act.sent', { type, index: r.log_index }) });
      reload();
    } catch (e) { setMsg({ error: true, text: t('act.notsent', { why: e.message }) }); }
  }
  function onReply(ev) {
    ev.preventDefault();
    const f = ev.target.elements;
    const body = outcome === 'answered' ? { outcome, text: f.replytext.value } : { outcome, reasons: f.replytext.value };
    const e = V.checkReply(body);
    setErrs(e);
    if (!Object.keys(e).length) act('reply', body);
  }
  function onAck(ev) {
    ev.preventDefault();
    const note = ev.target.elements.acknote.value;
    act('ack', note ? { note } : {});
  }
  function onClose(ev) {
    ev.preventDefault();
    const reason = ev.target.elements.closereason.value;
    act('close', reason ? { reason } : {});
  }
  const err = errs.text || errs.reasons;
  if (canPong)
    return html`<h2>${t('act.title')}</h2>
      <p>${t('act.pinghelp')}</p>
      <button type="button" onClick=${() => act('pong', {})}>${t('act.pong')}</button>
      <${Status} msg=${msg} />`;
  if (!canAck && !canReply && !(mine && open))
    return html`<h2>${t('act.title')}</h2><p class="empty">${t('act.nothing')}</p><${Status} msg=${msg} />`;
  return html`<h2>${t('act.title')}</h2>
    ${canAck && html`<form onSubmit=${onAck} aria-label=${t('act.ack')}>
      <div class="field"><label for="acknote">${t('act.acknote')}</label>
        <input id="acknote" name="acknote" /></div>
      <button type="submit">${t('act.ack')}</button></form>`}
    ${canReply && html`<form onSubmit=${onReply} aria-label=${t('act.reply')}>
      <fieldset><legend>${t('act.outcome')}</legend>
        <label><input type="radio" name="outcome" value="answered" checked=${outcome === 'answered'}
          onChange=${() => setOutcome('answered')} /> ${t('act.answered')}</label>
        <label><input type="radio" name="outcome" value="declined" checked=${outcome === 'declined'}
          onChange=${() => setOutcome('declined')} /> ${t('act.declined')}</label></fieldset>
      <div class="field"><label for="replytext">${outcome === 'answered' ? t('act.answer') : t('act.reasons')}</label>
        <textarea id="replytext" name="replytext" rows="4" aria-invalid=${err ? 'true' : 'false'}
          aria-describedby=${err ? 'replytext-err' : undefined}></textarea>
        ${err && html`<p id="replytext-err" class="field-error">${err}</p>`}</div>
      <button type="submit">${t('act.sendreply')}</button></form>`}
    ${mine && open && html`<form onSubmit=${onClose} aria-label=${t('act.close')}>
      <div class="field"><label for="closereason">${t('act.closereason')}</label>
        <input id="closereason" name="closereason" /></div>
      <button type="submit">${t('act.closebtn')}</button></form>`}
    <${Status} msg=${msg} />`;
}

function Receipt({ id, envelope }) {
  const [res, setRes] = useState(null);
  const [msg, setMsg] = useState(null);
  async function checkIt() {
    try {
      const n = await nodeInfo();
      const proof = await api('GET', `/v1/records/${encodeURIComponent(id)}/receipt`);
      const r = R.checkReceipt(proof, envelope, n.vkey);
      const url = URL.createObjectURL(new Blob([proof], { type: 'text/plain' }));
      setRes({ ...r, url });
      setMsg({ text: t('rc.ok', r) });
    } catch (e) { setMsg({ error: true, text: t('rc.bad', { why: e.message }) }); }
  }
  return html`<h2>${t('rc.title')}</h2>
    <p>${t('rc.help')}</p>
    <button type="button" onClick=${checkIt}>${t('rc.check')}</button>
    <${Status} msg=${msg} />
    ${res && html`<dl class="body"><dt>${t('rc.digest')}</dt><dd><code>${res.digest}</code></dd>
      <dt>${t('rc.entry')}</dt><dd>${t('rc.entryof', res)}</dd>
      <dt>${t('rc.witnesses')}</dt><dd>${res.cosigners.length ? res.cosigners.join(', ') : t('none')}</dd></dl>
      <p><a href=${res.url} download=${`${id}.proof`}>${t('rc.download')}</a> ${t('rc.offline', { cmd: 'comity record verify --receipt' })}</p>`}`;
}

function Message({ id }) {
  const [state, setState] = useState(null);
  const [msg, setMsg] = useState(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    (async () => {
      const status = await api('GET', `/v1/framework/messages/${encodeURIComponent(id)}`);
      const envelope = await api('GET', `/v1/records/${encodeURIComponent(id)}`);
      const rec = await readRecord(envelope);
      rec.envelope = envelope;
      // the thread: visible records whose refs start with this message
      const list = await api('GET', '/v1/records?limit=1000');
      const thread = [];
      for (const row of list.records) {
        if (!row.envelope || row.id === id) continue;
        const head = JSON.parse(new TextDecoder().decode(C.b64decode(row.envelope.payload)));
        if (head.refs && head.refs[0] === id) thread.push(await readRecord(row.envelope));
      }
      thread.sort((a, b) => Date.parse(a.payload.created) - Date.parse(b.payload.created));
      setState({ status, rec, thread });
    })().catch((e) => setMsg({ error: true, text: e.message }));
  }, [id, tick]);
  const title = state ? `${state.rec.payload.type} ${id.split('--')[1].slice(0, 8)}` : t('msg.title');
  return html`<${Screen} title=${title}>
    <${Status} msg=${msg} />
    ${state && html`
      <${RecordHead} rec=${state.rec} />
      <p>${t('msg.state')}: <strong>${state.status.state}</strong>${state.status.overdue ? html` <strong class="badge">${t('overdue')}</strong>` : ''}
        ${state.status.expects ? html`, ${t('msg.expects', { what: state.status.expects })} <${Time} t=${state.status.due} />` : ''}</p>
      ${state.rec.payload.sealed && state.status.expects && html`<p class="help">${t('msg.sealeddue')}</p>`}
      <${Body} rec=${state.rec} />
      <h2>${t('msg.thread')}</h2>
      ${state.thread.length ? html`<ol class="thread">${state.thread.map((t) => html`<li>
        <h3>${t.payload.type}</h3><${RecordHead} rec=${t} /><${Body} rec=${t} /></li>`)}</ol>`
        : html`<p class="empty">${t('msg.noanswer')}</p>`}
      <${Actions} status=${state.status} msgRec=${state.rec} reload=${() => setTick(tick + 1)} />
      <${Receipt} id=${id} envelope=${state.rec.envelope} />`}
  <//>`;
}

// ---- compose -------------------------------------------------------------

function Field({ id, label, errs, children, help }) {
  const e = errs[id];
  const desc = [help && `${id}-help`, e && `${id}-err`].filter(Boolean).join(' ') || undefined;
  return html`<div class="field"><label for=${`f-${id}`}>${label}</label>
    ${children({ id: `f-${id}`, name: id, 'aria-invalid': e ? 'true' : 'false', 'aria-describedby': desc })}
    ${help && html`<p id=${`${id}-help`} class="help">${help}</p>`}
    ${e && html`<p id=${`${id}-err`} class="field-error">${e}</p>`}</div>`;
}

const Select = (opts, values, blank) => (a) => html`<select ...${a}>
  ${blank && html`<option value="">${blank}</option>`}
  ${values.map((v) => html`<option value=${v} selected=${v === opts}>${v}</option>`)}</select>`;

function ComposePing() {
  const [errs, setErrs] = useState({});
  const [msg, setMsg] = useState(null);
  async function submit(ev) {
    ev.preventDefault();
    const f = ev.target.elements;
    const to = f.to.value.trim().split(/[\s,]+/).filter(Boolean);
    const body = { announced: f.announced.checked };
    if (f.kind.value) body.kind = f.kind.value;
    if (f.round.value.trim()) body.round = f.round.value.trim();
    const e = { ...V.checkTo(to, S.party), ...V.checkPing(body) };
    setErrs(e);
    if (Object.keys(e).length) { setMsg({ error: true, text: `Not sent: ${Object.keys(e).length} field(s) to fix.` }); return; }
    try {
      const r = await send('ping', 'green', to, [], body);
      setMsg({ text: `Sent ping ${r.id} (log index ${r.log_index}).` });
      go(`#/message/${r.id}`);
    } catch (err) { setMsg({ error: true, text: `The node refused it: ${err.message}` }); }
  }
  return html`<${Screen} title="New ping">
    <p>A communication check: each contact named answers with one click; the answers give the response figures.</p>
    <form onSubmit=${submit} novalidate>
      <${Field} id="to" label="To (states or parties, comma-separated)" errs=${errs}>${(a) => html`<input ...${a} autocomplete="off" />`}<//>
      <div class="field check"><input id="f-announced" name="announced" type="checkbox" />
        <label for="f-announced">Announced in advance</label></div>
      <${Field} id="kind" label="Contact kind (optional)" errs=${errs}>${Select('', V.POC_KINDS, 'Any')}<//>
      <${Field} id="round" label="Round (optional)" errs=${errs} help="e.g. 2026-Q4">${(a) => html`<input ...${a} />`}<//>
      <button type="submit">Sign and send</button>
    </form>
    <${Status} msg=${msg} />
  <//>`;
}

function Pings() {
  const [data, setData] = useState(null);
  const [msg, setMsg] = useState(null);
  useEffect(() => {
    api('GET', '/v1/framework/pings').then(setData, (e) => setMsg({ error: true, text: e.message }));
  }, []);
  const ms = (v) => (v === null || v === undefined ? '—' : v < 60000 ? `${Math.round(v / 1000)} s` : v < 3600000 ? `${Math.round(v / 60000)} min` : `${(v / 3600000).toFixed(1)} h`);
  return html`<${Screen} title="Pings">
    <${Status} msg=${msg} />
    ${data && html`<p>Pings sent from <${Time} t=${data.from} /> to <${Time} t=${data.to} />.</p>
      ${data.rows.length ? html`<table aria-label="Answers to pings per contact"><thead><tr>
        <th scope="col">Contact</th><th scope="col">Kind</th><th scope="col">Pings</th>
        <th scope="col">Answered</th><th scope="col">Median time</th><th scope="col">90th percentile</th>
        <th scope="col">Unanswered</th></tr></thead>
        <tbody>${data.rows.map((r) => html`<tr><td>${r.party}</td><td>${r.kind}</td><td>${r.count}</td>
          <td>${r.answered}</td><td>${ms(r.p50_ms)}</td><td>${ms(r.p90_ms)}</td>
          <td>${Math.round(r.unanswered * 100)}%</td></tr>`)}</tbody></table>`
        : html`<p class="empty">No ping in this period.</p>`}`}
  <//>`;
}

function Compose({ type }) {
  const [errs, setErrs] = useState({});
  const [msg, setMsg] = useState(null);
  const form = useRef(null);
  const notif = type === 'notification';
  // after a refused submit, the first field in error gets the focus
  useEffect(() => {
    const first = form.current && form.current.querySelector('[aria-invalid="true"]');
    if (first) first.focus();
  }, [errs]);
  async function submit(ev) {
    ev.preventDefault();
    const f = ev.target.elements;
    const val = (n) => (f[n] && f[n].value.trim()) || undefined;
    const to = (val('to') || '').split(/[\s,]+/).filter(Boolean);
    const tlp = val('tlp');
    const created = new Date().toISOString();
    const sev = val('severity');
    const body = notif
      ? { severity: sev ? Number(sev) : undefined, sector: val('sector'), summary: val('summary'),
          norm: val('norm'), requested_action: val('requested_action'), case: val('case') }
      : { kind: val('kind'), norm: val('norm'), asked: val('asked'), severity: sev ? Number(sev) : undefined,
          sector: val('sector'), case: val('case') };
    const rb = val('respond_by');
    if (rb) body.respond_by = new Date(rb).toISOString();
    for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
    const e = { ...V.checkTo(to, S.party), ...(notif ? V.checkNotification(body, created) : V.checkRequest(body, created)) };
    if (!V.TLPS.includes(tlp)) e.tlp = 'choose a sharing level';
    // STIX indicators from a file: its JSON becomes body.indicators, as
    // `comity notify --indicators FILE` does; its shape is checked here
    const file = f.indicators.files[0];
    if (file) {
      if (file.size > V.STIX_FILE_MAX) e.indicators = `the file is over ${V.STIX_FILE_MAX} bytes`;
      else {
        let v, why = null;
        try { v = JSON.parse(await file.text()); } catch (x) { why = `not JSON: ${x.message}`; }
        if (!why) why = V.checkIndicators(v);
        if (why) e.indicators = why;
        else body.indicators = v;
      }
    }
    setErrs(e);
    if (Object.keys(e).length) {
      setMsg({ error: true, text: t('c.fix', { n: Object.keys(e).length }) });
      return;
    }
    try {
      const r = await send(type, tlp, to, [], body);
      setMsg({ text: t('c.sent', { type, id: r.id, index: r.log_index }) });
      go(`#/message/${r.id}`);
    } catch (err) { setMsg({ error: true, text: t('c.refused', { why: err.message }) }); }
  }
  return html`<${Screen} title=${notif ? t('c.notification') : t('c.request')}>
    <form onSubmit=${submit} novalidate ref=${form}>
      <${Field} id="to" label=${t('c.to')} errs=${errs} help=${t('c.to.help')}>
        ${(a) => html`<input ...${a} autocomplete="off" />`}<//>
      <${Field} id="tlp" label=${t('c.tlp')} errs=${errs} help=${t('c.tlp.help')}>
        ${Select('amber', V.TLPS)}<//>
      ${notif ? html`
        <${Field} id="severity" label=${t('c.severity')} errs=${errs}>${Select('', ['1', '2', '3', '4', '5'], t('c.choose'))}<//>
        <${Field} id="sector" label=${t('c.sector')} errs=${errs}>${Select('', V.SECTORS, t('c.choose'))}<//>
        <${Field} id="summary" label=${t('c.summary')} errs=${errs}>${(a) => html`<textarea ...${a} rows="4"></textarea>`}<//>
        <${Field} id="norm" label=${t('c.norm.opt')} errs=${errs}>${Select('', V.NORMS, t('c.none'))}<//>
        <${Field} id="requested_action" label=${t('c.action')} errs=${errs}>${(a) => html`<input ...${a} />`}<//>`
      : html`
        <${Field} id="kind" label=${t('c.kind')} errs=${errs}>${Select('', V.REQUEST_KINDS, t('c.choose'))}<//>
        <${Field} id="norm" label=${t('c.norm')} errs=${errs}>${Select('', ['13c', '13h'], t('c.choose'))}<//>
        <${Field} id="asked" label=${t('c.asked')} errs=${errs}>${(a) => html`<textarea ...${a} rows="4"></textarea>`}<//>
        <${Field} id="severity" label=${t('c.severity.opt')} errs=${errs}>${Select('', ['1', '2', '3', '4', '5'], t('c.none'))}<//>
        <${Field} id="sector" label=${t('c.sector.opt')} errs=${errs}>${Select('', V.SECTORS, t('c.none'))}<//>`}
      <${Field} id="respond_by" label=${t('c.respond_by')} errs=${errs}>
        ${(a) => html`<input ...${a} type="datetime-local" />`}<//>
      <${Field} id="case" label=${t('c.case')} errs=${errs}>${(a) => html`<input ...${a} />`}<//>
      <${Field} id="indicators" label=${t('c.stix')} errs=${errs} help=${t('c.stix.help')}>
        ${(a) => html`<input ...${a} type="file" accept=".json,application/json,application/stix+json" />`}<//>
      <button type="submit">${t('c.send')}</button>
    </form>
    <${Status} msg=${msg} />
  <//>`;
}

// ---- shell ---------------------------------------------------------------

function route() {
  const h = location.hash.replace(/^#/, '') || '/inbox';
  const parts = h.split('/').filter(Boolean);
  return { name: parts[0] || 'inbox', arg: parts.slice(1).join('/') };
}

// The language chooser: the choice is remembered (i18n.js) and every
// screen is drawn again in it.
function LangChooser({ onChange }) {
  return html`<div class="lang"><label for="lang">${t('lang.label')}</label>
    <select id="lang" value=${current()} onChange=${(e) => { setLang(e.target.value); onChange(); }}>
      ${LANGS.map((l) => html`<option value=${l.code} lang=${l.code}>${l.name}</option>`)}</select></div>`;
}

function App() {
  const [r, setR] = useState(route());
  const [ready, setReady] = useState(false);
  const [, setLangTick] = useState(0);
  useEffect(() => {
    const on = () => setR(route());
    window.addEventListener('hashchange', on);
    // a reloaded page keeps its session but not the key: log in again
    api('GET', '/v1/session').then((s) => { S.csrf = s.csrf; }, () => {}).finally(() => setReady(true));
    return () => window.removeEventListener('hashchange', on);
  }, []);
  if (!ready) return html`<main id="main"><p>${t('loading')}</p></main>`;
  const logged = S.key && S.csrf;
  const name = logged ? r.name : 'login';
  async function logout() {
    try { await api('DELETE', '/v1/session'); } catch { /* already gone */ }
    Object.assign(S, { key: null, party: null, csrf: null, parties: null });
    go('#/login');
  }
  let screen;
  if (name === 'login') screen = html`<${Login} />`;
  else if (name === 'message') screen = html`<${Message} id=${r.arg} key=${r.arg} />`;
  else if (name === 'compose' && r.arg === 'ping') screen = html`<${ComposePing} />`;
  else if (name === 'compose') screen = html`<${Compose} type=${r.arg === 'request' ? 'request' : 'notification'} key=${r.arg} />`;
  else if (name === 'pings') screen = html`<${Pings} />`;
  else if (name === 'directory') screen = html`<${Directory} />`;
  else if (name === 'log') screen = html`<${Log} />`;
  else if (name === 'alerts') screen = html`<${Alerts} api=${api} Screen=${Screen} Status=${Status} />`;
  else screen = html`<${Inbox} />`;
  return html`
    <a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById('screen-title')?.focus(); }}>${t('skip')}</a>
    <header><p class="brand">comity</p>
      ${logged && html`<nav aria-label=${t('nav.main')}><ul>
        <li><a href="#/inbox" aria-current=${name === 'inbox' ? 'page' : undefined}>${t('nav.inbox')}</a></li>
        <li><a href="#/compose/notification" aria-current=${name === 'compose' && r.arg !== 'request' && r.arg !== 'ping' ? 'page' : undefined}>${t('nav.notification')}</a></li>
        <li><a href="#/compose/request" aria-current=${name === 'compose' && r.arg === 'request' ? 'page' : undefined}>${t('nav.request')}</a></li>
        <li><a href="#/compose/ping" aria-current=${name === 'compose' && r.arg === 'ping' ? 'page' : undefined}>${t('nav.ping')}</a></li>
        <li><a href="#/pings" aria-current=${name === 'pings' ? 'page' : undefined}>${t('nav.pings')}</a></li>
        <li><a href="#/directory" aria-current=${name === 'directory' ? 'page' : undefined}>${t('nav.directory')}</a></li>
        <li><a href="#/log" aria-current=${name === 'log' ? 'page' : undefined}>${t('nav.log')}</a></li>
        <li><a href="#/alerts" aria-current=${name === 'alerts' ? 'page' : undefined}>Alerts</a></li>
      </ul></nav>
      <p class="who">${t('who')} <strong>${S.party}</strong> <button type="button" onClick=${logout}>${t('logout')}</button></p>`}
      <${LangChooser} onChange=${() => setLangTick((n) => n + 1)} />
    </header>
    <main id="main">${screen}</main>`;
}

initLang();
const root = document.getElementById('app');
root.textContent = '';
render(html`<${App} />`, root);
