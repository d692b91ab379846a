// cases.js: #/cases, your open cases (consultations, evidence requests)
// with their clocks, overdue first, then by the earliest due time; and the
// links that open a new one.  The list is the node's
// (GET /v1/framework/cases): a sealed case's list entry needs nothing
// sealed, since the clocks run on envelopes alone.

import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { html, Time, Screen, Status } from '../ui.js';

export const OPENINGS = [
  ['consultation', 'case.new.consultation'],
  ['preservation', 'case.new.preservation'],
  ['mla', 'case.new.mla'],
  ['emergency', 'case.new.emergency'],
  ['attribution', 'case.new.attribution'],
];

const due = (c) => (c.due ? Date.parse(c.due) : Infinity);

// The clock that comes next: the earliest running one, with who must act.
function nextClock(c) {
  const ks = [...(c.clocks || [])].sort((a, b) => (b.overdue - a.overdue) ||
    ((a.due ? Date.parse(a.due) : Infinity) - (b.due ? Date.parse(b.due) : Infinity)));
  return ks[0];
}

export function Cases() {
  const [data, setData] = useState(null);
  const [msg, setMsg] = useState(null);
  useEffect(() => {
    api('GET', '/v1/framework/cases').then(setData, (e) => setMsg({ error: true, text: e.message }));
  }, []);
  const rows = data ? [...data.cases].sort((a, b) => (b.overdue - a.overdue) || (due(a) - due(b))) : [];
  return html`<${Screen} title=${t('cases.title')}>
    <nav aria-label=${t('cases.open')}><ul class="actions">
      ${OPENINGS.map(([m, k]) => html`<li><a href=${`#/case-new/${m}`}>${t(k)}</a></li>`)}</ul></nav>
    <${Status} msg=${msg} />
    ${data ? (rows.length ? html`<div class="table-wrap" role="region" tabindex="0" aria-label=${t('cases.caption')}><table class="cases" aria-label=${t('cases.caption')}><thead><tr>
        <th scope="col">${t('col.due')}</th><th scope="col">${t('cases.col.case')}</th>
        <th scope="col">${t('col.state')}</th><th scope="col">${t('cases.col.role')}</th>
        <th scope="col">${t('cases.col.parties')}</th><th scope="col">${t('cases.col.clock')}</th></tr></thead>
      <tbody>${rows.map((c) => { const k = nextClock(c); return html`<tr class=${c.overdue ? 'overdue' : ''}>
        <td>${c.overdue ? html`<strong class="badge">${t('overdue')}</strong> ` : ''}<${Time} t=${c.due} /></td>
        <td><a href=${`#/case/${c.id}`}>${t(`mech.${c.mechanism}`)} ${c.id.split('--')[1].slice(0, 8)}</a></td>
        <td>${c.state}</td><td>${t(`role.${c.role}`)}</td>
        <td>${c.parties.map((p) => p.party).join(', ')}</td>
        <td>${k ? html`${k.task ? t('case.task') : k.name}${k.who ? ` (${k.who})` : ''}` : '—'}</td></tr>`; })}</tbody></table></div>`
      : html`<p class="empty">${t('cases.empty')}</p>`) : !msg && html`<p>${t('loading')}</p>`}
  <//>`;
}
