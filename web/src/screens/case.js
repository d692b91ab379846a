// case.js: #/case/ID, one case as you see it: its status, parties and
// profile, its clocks (due times in your zone, UTC on hover and focus),
// follow-up actions, documents, the escalation ladder (consultations), the
// whole thread opened here, and the actions the framework allows you now.
// Evidence files (case-files.js): a record type that takes `files` gets a
// file picker (the file sealed here, uploaded, then listed and attached),
// and every file the thread names can be fetched and opened here.
// Those actions are the node's answer (`next` of
// GET /v1/framework/cases/ID, from the mechanism's status table): this
// screen offers them and nothing else, and draws each one's form from the
// published schema (case-form.js).  A record sent from here goes to every
// other party of the case, refs[0] the case, at the opening's TLP (sealed
// here when the case is sealed), signed here.  A party that joined late
// may not read what was sealed before it joined (the node answers 404,
// as for any record one may not read): those entries show as sealed
// before you joined, with what the case view says of them (type,
// author, time), and the screen works with the rest.

import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n.js';
import * as V from '../validate.js';
import { S, api, send, readRecord } from '../api.js';
import { html, Time, Screen, Status, RecordHead } from '../ui.js';
import { caseTypes, CaseFields, readCaseFields } from './case-form.js';
import { FileEntry, Progress, filesOf, sendWithFile } from './case-files.js';

const short = (id) => id.split('--')[1].slice(0, 8);

// A record's body, each field under its label from the catalogs (the
// field's name when the catalog has none); times of the type's schema in
// your zone (UTC on hover and focus).
function CaseBody({ rec, type }) {
  if (rec.openError) return html`<p class="msg error" role="alert">${t('msg.cannotopen', { why: rec.openError })}</p>`;
  const b = rec.body || {};
  const label = (k) => (t(`cf.${k}`) === `cf.${k}` ? k : t(`cf.${k}`));
  // files carried apart: by name (size), each fetched under Documents
  const item = (x) => (x && typeof x === 'object' && typeof x.sha256 === 'string'
    ? `${x.name || x.sha256.slice(0, 16)} (${t('files.size', { n: x.size })})` : typeof x === 'object' ? JSON.stringify(x) : String(x));
  const text = (v) => (Array.isArray(v) ? v.map(item).join('\n') : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const kind = (k) => ((type && type.fields.find((f) => f.name === k)) || {}).kind;
  return html`<dl class="body">${Object.keys(b).map((k) => html`<dt>${label(k)}</dt>
    <dd>${kind(k) === 'time' && V.validTime(b[k]) ? html`<${Time} t=${b[k]} />` : text(b[k])}</dd>`)}</dl>`;
}

function Clocks({ clocks }) {
  if (!clocks.length) return html`<p class="empty">${t('case.noclock')}</p>`;
  return html`<div class="table-wrap" role="region" tabindex="0" aria-label=${t('case.clocks')}><table aria-label=${t('case.clocks')}><thead><tr>
    <th scope="col">${t('case.clock')}</th><th scope="col">${t('case.who')}</th>
    <th scope="col">${t('case.started')}</th><th scope="col">${t('col.due')}</th>
    <th scope="col">${t('col.state')}</th></tr></thead>
    <tbody>${clocks.map((k) => html`<tr class=${k.overdue ? 'overdue' : ''}><td>${k.name}</td><td>${k.who}</td>
      <td><${Time} t=${k.started} /></td><td><${Time} t=${k.due} /></td>
      <td>${k.overdue ? html`<strong class="badge">${t('overdue')}</strong>`
        : k.running ? t('case.running') : html`${t('case.stopped')} <${Time} t=${k.stopped} />`}</td></tr>`)}</tbody></table></div>`;
}

// Follow-up actions: owner and text from the node, or from the action's
// record opened here when the case is sealed.
function Tasks({ tasks, recs }) {
  if (!tasks.length) return null;
  return html`<h2>${t('case.tasks')}</h2><div class="table-wrap" role="region" tabindex="0" aria-label=${t('case.tasks')}><table aria-label=${t('case.tasks')}><thead><tr>
    <th scope="col">${t('cf.what')}</th><th scope="col">${t('cf.owner')}</th><th scope="col">${t('col.due')}</th>
    <th scope="col">${t('col.state')}</th></tr></thead>
    <tbody>${tasks.map((k) => { const b = (recs[k.id] && recs[k.id].body) || {};
      return html`<tr class=${k.overdue ? 'overdue' : ''}><td>${k.what || b.what || '—'}</td><td>${k.owner || b.owner || '—'}</td>
        <td><${Time} t=${k.due || b.due} /></td>
        <td>${k.done ? html`${t('case.done')} <${Time} t=${k.done} />` : k.overdue ? html`<strong class="badge">${t('overdue')}</strong>` : t('case.pending')}</td></tr>`; })}</tbody></table></div>`;
}

// Documents: a consultation's documents, and every file carried apart
// that a record of the thread names (its `files`, or the older single
// SHA-256), each fetched and opened here on demand (case-files.js).
function Documents({ thread, recs }) {
  const docs = thread.filter((e) => e.type === 'consult-document' || filesOf(recs[e.id] && recs[e.id].body).length);
  if (!docs.length) return null;
  return html`<h2>${t('case.documents')}</h2><ul>${docs.map((e, i) => {
    const b = (recs[e.id] && recs[e.id].body) || {};
    return html`<li><strong>${b.title || (e.type === 'consult-document' ? t('sealed') : t(`act.${e.type}`))}</strong> — ${e.author}, <${Time} t=${e.created} />
      ${b.content && html`<p class="doc">${b.content}</p>`}
      <ul class="files">${filesOf(b).map((f, j) => html`<${FileEntry} f=${f} n=${`${i}-${j}`} key=${f.sha256} />`)}</ul></li>`; })}</ul>`;
}

function Ladder({ ladder }) {
  if (!ladder) return null;
  return html`<h2>${t('case.ladder')}</h2><ol class="ladder">${ladder.steps.map((s) => html`<li
    class=${s.reached ? 'reached' : ''} aria-current=${s.rung === ladder.rung ? 'step' : undefined}>
    ${t(`rung.${s.rung}`)} ${s.reached ? html`<small>(${t('case.reached')})</small>` : ''}</li>`)}</ol>`;
}

// The actions allowed now: one button per type of the node's `next`; the
// chosen one's form below them.
function Actions({ c, tlp, types, recs, reload }) {
  const [chosen, setChosen] = useState(null);
  const [errs, setErrs] = useState({});
  const [msg, setMsg] = useState(null);
  const [prog, setProg] = useState(null);
  const form = useRef(null);
  useEffect(() => {
    const first = form.current && form.current.querySelector('[aria-invalid="true"]');
    if (first) first.focus();
  }, [errs]);
  useEffect(() => { if (chosen && form.current) form.current.querySelector('input, select, textarea, button')?.focus(); }, [chosen]);
  const mine = S.party.split('.')[0];
  const to = c.parties.map((p) => p.party).filter((p) => p !== S.party && p !== mine);
  const type = chosen && types.byType[chosen];
  const open = c.tasks.filter((k) => !k.done);
  async function submit(ev) {
    ev.preventDefault();
    const body = readCaseFields(type, ev.target.elements);
    const e = V.checkCaseBody(type, body);
    // a file to carry apart: sealed and sent below, then listed in `files`
    const file = ev.target.elements.files && ev.target.elements.files.files[0];
    if (file) delete e.files;
    const refs = [c.id];
    if (chosen === 'consult-action-done') {
      const task = ev.target.elements.task.value;
      if (!task) e.task = 'choose the action that is done'; else refs.push(task);
    }
    setErrs(e);
    if (Object.keys(e).length) { setMsg({ error: true, text: t('c.fix', { n: Object.keys(e).length }) }); return; }
    try {
      const r = file ? await sendWithFile(c, chosen, tlp, to, refs, body, file, setProg)
        : await send(chosen, tlp, to, refs, body);
      setProg(null);
      setMsg({ text: file ? t('files.sent', { type: chosen, index: r.log_index, name: r.file.name, size: r.file.size })
        : t('act.sent', { type: chosen, index: r.log_index }) });
      setChosen(null);
      reload();
    } catch (err) { setProg(null); setMsg({ error: true, text: t('act.notsent', { why: err.message }) }); }
  }
  return html`<h2 id="case-actions">${t('act.title')}</h2>
    ${c.next.length ? html`<ul class="actions" aria-labelledby="case-actions">${c.next.map((n) => html`<li>
      <button type="button" aria-pressed=${chosen === n.type ? 'true' : 'false'}
        onClick=${() => { setErrs({}); setMsg(null); setChosen(n.type); }}>${t(`act.${n.type}`)}</button></li>`)}</ul>`
      : html`<p class="empty">${t('case.nothing')}</p>`}
    ${type && html`<form onSubmit=${submit} novalidate ref=${form} aria-label=${t(`act.${chosen}`)}>
      <p class="help">${t('case.sendto', { to: to.join(', '), tlp: tlp.toUpperCase() })}</p>
      ${chosen === 'consult-action-done' && html`<div class="field"><label for="f-task">${t('case.which')}</label>
        <select id="f-task" name="task" aria-invalid=${errs.task ? 'true' : 'false'} aria-describedby=${errs.task ? 'task-err' : undefined}>
          <option value="">${t('c.choose')}</option>
          ${open.map((k) => html`<option value=${k.id}>${k.what || (recs[k.id] && recs[k.id].body && recs[k.id].body.what) || short(k.id)}</option>`)}</select>
        ${errs.task && html`<p id="task-err" class="field-error">${errs.task}</p>`}</div>`}
      <${CaseFields} type=${type} errs=${errs} withFiles=${true} />
      <${Progress} p=${prog} id="upload-progress" />
      <button type="submit" disabled=${!!prog}>${t('c.send')}</button>
      <button type="button" class="secondary" onClick=${() => setChosen(null)}>${t('case.cancel')}</button>
    </form>`}
    <${Status} msg=${msg} />`;
}

export function Case({ id }) {
  const [st, setSt] = useState(null);
  const [msg, setMsg] = useState(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    (async () => {
      const [c, types] = await Promise.all([api('GET', `/v1/framework/cases/${encodeURIComponent(id)}`), caseTypes()]);
      // every record of the thread, verified and (when sealed) opened here;
      // one sealed before this party joined is not its to read (404)
      const recs = {};
      for (const e of c.thread) {
        try {
          const env = await api('GET', `/v1/records/${encodeURIComponent(e.id)}`);
          recs[e.id] = await readRecord(env);
        } catch (err) {
          if (err.status !== 404) throw err;
          recs[e.id] = { before: true };
        }
      }
      // the case's TLP: the opening's, else (not readable) that of the
      // first record this party may read, all sent at it
      const known = [c.id, ...c.thread.map((e) => e.id)].map((x) => recs[x]).find((r) => r && r.payload);
      setSt({ c, types, recs, tlp: known ? known.payload.tlp : c.sealed ? 'amber' : 'green' });
    })().catch((e) => setMsg({ error: true, text: e.message }));
  }, [id, tick]);
  const c = st && st.c;
  const title = c ? `${t(`mech.${c.mechanism}`)} ${short(id)}` : t('case.title');
  return html`<${Screen} title=${title}>
    <${Status} msg=${msg} />
    ${c && html`
      <dl class="body">
        <dt>${t('col.state')}</dt><dd><strong>${c.state}</strong> ${c.open ? '' : `(${t('case.closed')})`}</dd>
        <dt>${t('cases.col.role')}</dt><dd>${c.role ? t(`role.${c.role}`) : '—'}</dd>
        <dt>${t('cases.col.parties')}</dt><dd>${c.parties.map((p) => `${p.party} (${t(`role.${p.role}`)})`).join(', ')}</dd>
        <dt>${t('case.opened')}</dt><dd><${Time} t=${c.opened} /></dd>
        ${c.profile && html`<dt>${t('case.profile')}</dt><dd>${c.profile}</dd>`}
        <dt>${t('c.tlp')}</dt><dd>TLP:${st.tlp.toUpperCase()}${c.sealed ? ` — ${t('case.sealed')}` : ''}</dd>
      </dl>
      <h2>${t('case.clocks')}</h2>
      <${Clocks} clocks=${c.clocks} />
      <${Tasks} tasks=${c.tasks} recs=${st.recs} />
      <${Ladder} ladder=${c.ladder} />
      ${c.mechanism === 'attribution' && html`<p><a href=${`#/attribution/${id}`}>${t('attribution.view')}</a></p>`}
      <${Documents} thread=${c.thread} recs=${st.recs} />
      <h2>${t('msg.thread')}</h2>
      <ol class="thread">${c.thread.map((e) => html`<li>
        <h3>${e.type}</h3>${st.recs[e.id].before
          ? html`<p class="meta sealed-before">${t('weba_case.sealedbefore', { author: e.author })} <${Time} t=${e.created} /></p>`
          : html`<${RecordHead} rec=${st.recs[e.id]} /><${CaseBody} rec=${st.recs[e.id]} type=${st.types.byType[e.type]} />`}</li>`)}</ol>
      <${Actions} c=${c} tlp=${st.tlp} types=${st.types} recs=${st.recs} reload=${() => setTick(tick + 1)} />`}
  <//>`;
}
