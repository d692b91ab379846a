// attribution.js: #/attribution/ID, an attribution case as its parties
// read it (docs/attribution.md): the evidence items with the Admiralty
// code's two ratings and the other states' ratings beside each; the claims,
// each with its confidence and, on a line of its own, its likelihood (never
// one sentence), the named state's replies beside it, and the review
// panel's votes with their reasons and the tally; the panel and who agreed.
// Every record of the thread is fetched, verified and (when sealed) opened
// here, in the browser: the node holds no sealed body.  Which record names
// which (a rating its evidence item, a reply or a vote its claim) is the
// node's (facts.refs, from the envelopes).  The rules that need a body (a
// voter is a panel member) are the library's and are applied by
// `comity attribution show`; this screen shows what the thread holds.
//
// Records are sent from here too, including those that name another
// record, which the case screen cannot send (it sends refs[0] alone): a
// rating names its evidence item, a reply or a vote its claim, a claim the
// evidence items it rests on, an agreement the pending panel proposal.
// Only the types the node offers now (`next`, from the status table) are
// offered; each form is drawn from the published schema (case-form.js) and
// the record is signed, and sealed when the case is, here.
//
// The graph (attribution-graph.js, cytoscape, fetched when opened) shows
// the incidents, evidence, indicators, actors and the other reports that
// share infrastructure, correlated where the case is opened: this
// browser's opened evidence, looked up in the node's index.  A table under
// it says the same in words (the canvas is not read by screen readers).

import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n.js';
import * as V from '../validate.js';
import { S, api, send, readRecord } from '../api.js';
import { html, Time, Screen, Status } from '../ui.js';
import { caseTypes, CaseFields, readCaseFields } from './case-form.js';

const short = (id) => id.split('--')[1].slice(0, 8);

// The case's items from its thread: {evidence, claims, panel}, each with
// what names it beside it.
export function attributionItems(c, recs) {
  const refs = (c.facts && c.facts.refs) || {};
  const evidence = [], claims = [], byId = {};
  for (const e of c.thread) {
    const body = (recs[e.id] && recs[e.id].body) || null;
    const it = { id: e.id, by: e.author, at: e.created, body, ratings: [], replies: [], votes: [] };
    if (e.type === 'attribution-evidence') { evidence.push(it); byId[e.id] = it; }
    if (e.type === 'attribution-claim') { it.evidence = refs[e.id] || []; claims.push(it); byId[e.id] = it; }
    const target = byId[(refs[e.id] || [])[0]];
    if (!target) continue;
    if (e.type === 'attribution-rating') target.ratings.push(it);
    if (e.type === 'attribution-reply') target.replies.push({ ...it, consultation: (refs[e.id] || [])[1] });
    if (e.type === 'attribution-vote') target.votes.push(it);
  }
  for (const cl of claims) {
    cl.tally = { concur: 0, dissent: 0, abstain: 0, sealed: 0 };
    for (const v of cl.votes) cl.tally[v.body ? v.body.vote : 'sealed'] += 1;
  }
  return { evidence, claims, panel: panelOf(c, recs) };
}

// The panel as the node has it (who proposed, who agreed: envelopes), with
// its members.  On a sealed case the node cannot read the proposal's body,
// so it has no members; this browser opened the proposal (it is in the
// thread) and reads them there.  members stays absent only when this
// browser could not open it either.
function panelOf(c, recs) {
  const p = c.attribution && c.attribution.panel;
  if (!p || Array.isArray(p.members)) return p;
  const body = recs[p.record] && recs[p.record].body;
  return body && Array.isArray(body.members) ? { ...p, members: body.members } : p;
}

// A button for each of `types` the node offers now, naming item `id`.
function ItemActs({ id, types, next, act }) {
  const offered = types.filter((ty) => next.includes(ty));
  if (!offered.length) return null;
  return html`<p class="actions">${offered.map((ty) => html`<button type="button" class="secondary"
    onClick=${() => act(ty, id)}>${t(`act.${ty}`)}</button> `)}</p>`;
}

function Evidence({ items, next, act }) {
  if (!items.length) return html`<p class="empty">${t('attribution.noevidence')}</p>`;
  return html`<ol class="thread">${items.map((x) => html`<li>
    <h3>${x.by} <${Time} t=${x.at} /></h3>
    ${x.body ? html`<p>${x.body.what}</p><dl class="body">
      <dt>${t('cf.observed_by')}</dt><dd>${x.body.observed_by}</dd>
      <dt>${t('cf.observed_at')}</dt><dd><${Time} t=${x.body.observed_at} /></dd>
      <dt>${t('cf.method')}</dt><dd>${x.body.method}</dd>
      <dt>${t('cf.reliability')}</dt><dd>${x.body.reliability}</dd>
      <dt>${t('cf.credibility')}</dt><dd>${x.body.credibility}</dd>
      <dt>${t('cf.stix')}</dt><dd>${(x.body.stix || []).map((o) => o.name || o.pattern || o.id).join('; ') || '—'}</dd>
      <dt>${t('cf.files')}</dt><dd>${(x.body.files || []).map((f) => f.name || f.sha256).join(', ') || '—'}</dd></dl>`
      : html`<p class="msg">${t('attribution.sealed')}</p>`}
    ${x.ratings.length ? html`<ul>${x.ratings.map((r) => html`<li>${t('attribution.ratedby', {
      by: r.by, reliability: (r.body && r.body.reliability) || '—', credibility: (r.body && r.body.credibility) || '—' })}
      ${r.body && r.body.note ? `: ${r.body.note}` : ''}</li>`)}</ul>` : ''}
    <${ItemActs} id=${x.id} types=${['attribution-rating']} next=${next} act=${act} /></li>`)}</ol>`;
}

function Claim({ x, next, act }) {
  const b = x.body;
  return html`<li><h3>${x.by} <${Time} t=${x.at} /></h3>
    ${b ? html`<p><strong>${b.kind === 'incident-actor'
      ? t('attribution.incidentactor', { incident: short(b.incident), actor: b.actor })
      : t('attribution.actorstate', { actor: b.actor, state: b.state })}</strong></p>
      <dl class="body"><dt>${t('cf.confidence')}</dt><dd>${b.confidence}/100</dd>
      <dt>${t('cf.likelihood')}</dt><dd>${b.likelihood}</dd>
      ${b.basis && html`<dt>${t('cf.basis')}</dt><dd>${b.basis}</dd>`}</dl>`
      : html`<p class="msg">${t('attribution.sealed')}</p>`}
    <h4>${t('attribution.replies')}</h4>
    ${x.replies.length ? html`<ul>${x.replies.map((r) => html`<li><strong>${r.by}</strong>:
      ${r.body ? `${r.body.answer}${r.body.statement ? ` — ${r.body.statement}` : ''}` : t('attribution.sealed')}
      ${r.consultation && html` <a href=${`#/case/${r.consultation}`}>${t('attribution.consultation')}</a>`}</li>`)}</ul>`
      : html`<p class="empty">${t('attribution.noreply')}</p>`}
    <h4>${t('attribution.tally', x.tally)}</h4>
    ${x.votes.length ? html`<ul>${x.votes.map((v) => html`<li><strong>${v.by}</strong>:
      ${v.body ? `${v.body.vote} (${v.body.opinion}) — ${v.body.reasons}` : t('attribution.sealed')}</li>`)}</ul>` : ''}
    <${ItemActs} id=${x.id} types=${['attribution-reply', 'attribution-vote']} next=${next} act=${act} /></li>`;
}

// What names another record, and which: the target's kind (a select of
// the case's items) or, for a claim, the evidence it rests on (boxes).
const TARGET = { 'attribution-rating': 'evidence', 'attribution-reply': 'claims', 'attribution-vote': 'claims' };

// The form of the chosen type: the schema's fields, the record(s) it
// names, sent to every other party at the opening's TLP.
function Acts({ st, chosen, setChosen, reload }) {
  const { c, items, types, tlp } = st;
  const [errs, setErrs] = useState({});
  const [msg, setMsg] = useState(null);
  const form = useRef(null);
  const type = chosen && types.byType[chosen.type];
  useEffect(() => {
    if (!form.current) return;
    const bad = form.current.querySelector('[aria-invalid="true"]');
    (bad || form.current.querySelector('select, input, textarea, button')).focus();
  }, [chosen, errs]);
  const mine = S.party.split('.')[0];
  const to = c.parties.map((p) => p.party).filter((p) => p !== S.party && p !== mine);
  const next = c.next.map((n) => n.type).filter((ty) => types.byType[ty] && ty.startsWith('attribution-'));
  const targets = chosen && TARGET[chosen.type] ? items[TARGET[chosen.type]] : [];
  const label = (x) => `${x.by}: ${x.body ? (x.body.what || (x.body.kind === 'incident-actor'
    ? t('attribution.incidentactor', { incident: short(x.body.incident || ''), actor: x.body.actor })
    : t('attribution.actorstate', { actor: x.body.actor, state: x.body.state }))).slice(0, 80) : short(x.id)}`;
  async function submit(ev) {
    ev.preventDefault();
    const el = ev.target.elements;
    const body = readCaseFields(type, el);
    const e = V.checkCaseBody(type, body);
    const refs = [c.id];
    if (TARGET[chosen.type]) {
      if (!el.target.value) e.target = t('attribution.picktarget'); else refs.push(el.target.value);
    }
    if (chosen.type === 'attribution-claim') {
      const evs = items.evidence.filter((x) => el[`ev-${x.id}`] && el[`ev-${x.id}`].checked).map((x) => x.id);
      if (!evs.length) e.basis_evidence = t('attribution.pickevidence'); else refs.push(...evs);
    }
    if (chosen.type === 'attribution-panel-agree' && items.panel && items.panel.record) refs.push(items.panel.record);
    setErrs(e);
    if (Object.keys(e).length) { setMsg({ error: true, text: t('c.fix', { n: Object.keys(e).length }) }); return; }
    try {
      const r = await send(chosen.type, tlp, to, refs, body);
      setMsg({ text: t('act.sent', { type: chosen.type, index: r.log_index }) });
      setChosen(null);
      reload();
    } catch (err) { setMsg({ error: true, text: t('act.notsent', { why: err.message }) }); }
  }
  return html`<h2 id="attr-actions">${t('attribution.actions')}</h2>
    ${next.length ? html`<ul class="actions" aria-labelledby="attr-actions">${next.map((ty) => html`<li>
      <button type="button" aria-pressed=${chosen && chosen.type === ty ? 'true' : 'false'}
        onClick=${() => { setErrs({}); setMsg(null); setChosen({ type: ty }); }}>${t(`act.${ty}`)}</button></li>`)}</ul>`
      : html`<p class="empty">${t('case.nothing')}</p>`}
    ${type && html`<form onSubmit=${submit} novalidate ref=${form} aria-label=${t(`act.${chosen.type}`)} key=${`${chosen.type} ${chosen.target || ''}`}>
      <p class="help">${t('case.sendto', { to: to.join(', '), tlp: tlp.toUpperCase() })}</p>
      ${TARGET[chosen.type] && html`<div class="field"><label for="f-target">${t(`attribution.target.${TARGET[chosen.type]}`)}</label>
        <select id="f-target" name="target" aria-invalid=${errs.target ? 'true' : 'false'} aria-describedby=${errs.target ? 'target-err' : undefined}>
          <option value="">${t('c.choose')}</option>
          ${targets.map((x) => html`<option value=${x.id} selected=${x.id === chosen.target}>${label(x)}</option>`)}</select>
        ${errs.target && html`<p id="target-err" class="field-error">${errs.target}</p>`}</div>`}
      ${chosen.type === 'attribution-claim' && html`<fieldset aria-invalid=${errs.basis_evidence ? 'true' : 'false'}
          aria-describedby=${errs.basis_evidence ? 'evs-err' : undefined}><legend>${t('attribution.claimevidence')}</legend>
        ${items.evidence.map((x, i) => html`<div class="field check"><input type="checkbox" id=${`ev-${i}`} name=${`ev-${x.id}`} />
          <label for=${`ev-${i}`}>${label(x)}</label></div>`)}
        ${errs.basis_evidence && html`<p id="evs-err" class="field-error">${errs.basis_evidence}</p>`}</fieldset>`}
      <${CaseFields} type=${type} errs=${errs} withFiles=${false} />
      <button type="submit">${t('c.send')}</button>
      <button type="button" class="secondary" onClick=${() => setChosen(null)}>${t('case.cancel')}</button>
    </form>`}
    <${Status} msg=${msg} />`;
}

// The graph and, in words, the other reports sharing infrastructure.
function Graph({ st }) {
  const [g, setG] = useState(null);
  const [msg, setMsg] = useState(null);
  const box = useRef(null);
  useEffect(() => {
    if (!g || !box.current) return undefined;
    const cy = g.mod.drawGraph(box.current, g.elements);
    return () => cy.destroy();
  }, [g]);
  async function open() {
    setMsg({ text: t('attribution.graph.loading') });
    try {
      const mod = await import('./attribution-graph.js');
      const { shared, common } = await mod.sharedInfrastructure(st.c, st.items);
      const { nodes, edges } = mod.caseElements(st.c, st.items, shared);
      setG({ mod, shared, common, elements: [...nodes, ...edges], n: nodes.length, e: edges.length });
      setMsg(null);
    } catch (err) { setMsg({ error: true, text: err.message }); }
  }
  const ids = (list) => list.map((id) => short(id)).join(', ');
  return html`<h2 id="attr-graph">${t('attribution.graph')}</h2>
    ${!g && html`<p><button type="button" onClick=${open}>${t('attribution.graph.show')}</button></p>`}
    <${Status} msg=${msg} />
    ${g && html`<p class="help">${t('attribution.shared.help')}</p>
      <div ref=${box} class="graph" role="img" aria-label=${t('attribution.graph.label', { nodes: g.n, edges: g.e })}
        style=${{ height: '460px', border: '1px solid #ccc', 'background-color': '#fff' }}></div>
      <ul class="legend" aria-label=${t('attribution.legend')}>${g.mod.KINDS.map((k) => html`<li>
        <span aria-hidden="true" style=${{ display: 'inline-block', width: '0.8em', height: '0.8em', 'background-color': g.mod.colour(k) }}></span>
        ${' '}${t(`attribution.kind.${k}`)}</li>`)}</ul>
      <h3>${t('attribution.shared')}</h3>
      ${g.shared.length ? html`<div class="table-wrap" role="region" tabindex="0" aria-label=${t('attribution.shared')}>
        <table aria-label=${t('attribution.shared')}><thead><tr><th scope="col">${t('attribution.shared.value')}</th>
          <th scope="col">${t('attribution.shared.in')}</th><th scope="col">${t('attribution.shared.reports')}</th></tr></thead>
        <tbody>${g.shared.map((s) => html`<tr><td>${s.value} <small>(${s.type})</small></td><td>${ids(s.in)}</td>
          <td><ul>${s.holders.map((h) => html`<li>${t('attribution.shared.report', { author: h.author, state: h.state, kind: h.kind, id: short(h.id), value: h.value })}</li>`)}</ul></td></tr>`)}</tbody>
        </table></div>`
        : html`<p class="empty">${t('attribution.shared.none')}</p>`}
      ${g.common.length ? html`<p>${t('attribution.common', { values: g.common.map((x) => x.value).join(', ') })}</p>` : ''}`}`;
}

export function Attribution({ id }) {
  const [st, setSt] = useState(null);
  const [msg, setMsg] = useState(null);
  const [tick, setTick] = useState(0);
  const [chosen, setChosen] = useState(null);
  useEffect(() => {
    (async () => {
      const [c, types] = await Promise.all([api('GET', `/v1/framework/cases/${encodeURIComponent(id)}`), caseTypes()]);
      const recs = {};
      for (const e of c.thread) recs[e.id] = await readRecord(await api('GET', `/v1/records/${encodeURIComponent(e.id)}`));
      setSt({ c, types, tlp: recs[c.id].payload.tlp, items: attributionItems(c, recs) });
    })().catch((e) => setMsg({ error: true, text: e.message }));
  }, [id, tick]);
  const c = st && st.c;
  const next = c ? c.next.map((n) => n.type) : [];
  const act = (type, target) => { setChosen({ type, target }); document.getElementById('attr-actions')?.scrollIntoView(); };
  return html`<${Screen} title=${`${t('mech.attribution')} ${short(id)}`}>
    <${Status} msg=${msg} />
    ${c && html`<p><a href=${`#/case/${id}`}>${t('attribution.tocase')}</a></p>
      <dl class="body"><dt>${t('col.state')}</dt><dd><strong>${c.state}</strong></dd>
        <dt>${t('cases.col.parties')}</dt><dd>${c.parties.map((p) => `${p.party} (${t(`role.${p.role}`)})`).join(', ')}</dd>
        ${c.clocks.map((k) => html`<dt>${k.name} (${k.who})</dt><dd><${Time} t=${k.due} />
          ${k.overdue ? html` <strong class="badge">${t('overdue')}</strong>` : k.running ? '' : ` (${t('case.stopped')})`}</dd>`)}</dl>
      <h2>${t('attribution.evidence')}</h2><${Evidence} items=${st.items.evidence} next=${next} act=${act} />
      <h2>${t('attribution.claims')}</h2>
      ${st.items.claims.length ? html`<ol class="thread">${st.items.claims.map((x) => html`<${Claim} x=${x} next=${next} act=${act} />`)}</ol>`
        : html`<p class="empty">${t('attribution.noclaim')}</p>`}
      ${st.items.panel && html`<h2>${t('attribution.panel')}</h2>
        <p>${st.items.panel.members ? st.items.panel.members.join(', ') : t('attribution.sealed')}
          — ${st.items.panel.agreed_by_all ? t('attribution.agreed') : t('attribution.awaiting', { n: st.items.panel.agreed.length })}</p>`}
      <${Acts} st=${st} chosen=${chosen} setChosen=${setChosen} reload=${() => setTick(tick + 1)} />
      <${Graph} st=${st} key=${tick} />`}
  <//>`;
}
