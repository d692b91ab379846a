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
// Records are sent from the case screen (#/case/ID) or the command.

import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n.js';
import { api, readRecord } from '../api.js';
import { html, Time, Screen, Status } from '../ui.js';

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
  return { evidence, claims, panel: c.attribution && c.attribution.panel };
}

function Evidence({ items }) {
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
      ${r.body && r.body.note ? `: ${r.body.note}` : ''}</li>`)}</ul>` : ''}</li>`)}</ol>`;
}

function Claim({ x }) {
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
      ${v.body ? `${v.body.vote} (${v.body.opinion}) — ${v.body.reasons}` : t('attribution.sealed')}</li>`)}</ul>` : ''}</li>`;
}

export function Attribution({ id }) {
  const [st, setSt] = useState(null);
  const [msg, setMsg] = useState(null);
  useEffect(() => {
    (async () => {
      const c = await api('GET', `/v1/framework/cases/${encodeURIComponent(id)}`);
      const recs = {};
      for (const e of c.thread) recs[e.id] = await readRecord(await api('GET', `/v1/records/${encodeURIComponent(e.id)}`));
      setSt({ c, items: attributionItems(c, recs) });
    })().catch((e) => setMsg({ error: true, text: e.message }));
  }, [id]);
  const c = st && st.c;
  return html`<${Screen} title=${`${t('mech.attribution')} ${short(id)}`}>
    <${Status} msg=${msg} />
    ${c && html`<p><a href=${`#/case/${id}`}>${t('attribution.tocase')}</a></p>
      <dl class="body"><dt>${t('col.state')}</dt><dd><strong>${c.state}</strong></dd>
        <dt>${t('cases.col.parties')}</dt><dd>${c.parties.map((p) => `${p.party} (${t(`role.${p.role}`)})`).join(', ')}</dd>
        ${c.clocks.map((k) => html`<dt>${k.name} (${k.who})</dt><dd><${Time} t=${k.due} />
          ${k.overdue ? html` <strong class="badge">${t('overdue')}</strong>` : k.running ? '' : ` (${t('case.stopped')})`}</dd>`)}</dl>
      <h2>${t('attribution.evidence')}</h2><${Evidence} items=${st.items.evidence} />
      <h2>${t('attribution.claims')}</h2>
      ${st.items.claims.length ? html`<ol class="thread">${st.items.claims.map((x) => html`<${Claim} x=${x} />`)}</ol>`
        : html`<p class="empty">${t('attribution.noclaim')}</p>`}
      ${st.items.panel && html`<h2>${t('attribution.panel')}</h2>
        <p>${(st.items.panel.members || []).join(', ') || t('attribution.sealed')}
          — ${st.items.panel.agreed_by_all ? t('attribution.agreed') : t('attribution.awaiting', { n: st.items.panel.agreed.length })}</p>`}`}
  <//>`;
}
