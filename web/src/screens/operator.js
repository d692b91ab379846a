// operator.js: #/operator, the node operator's screen (a session opened
// with the operator's token, login.js): the registration requests that
// await a decision (GET /v1/registrations), each approved (the node then
// registers the party as `comity party add` does) or refused
// (POST /v1/registrations/NAME, with the key shown here, so that a
// request sent again with another key is not decided unseen).  The
// operator should check the key id with the newcomer by another channel
// before approving.

import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { html, Time, Screen, Status } from '../ui.js';

export function Operator() {
  const [list, setList] = useState(null);
  const [msg, setMsg] = useState(null);
  const [busy, setBusy] = useState(false);
  async function load() {
    try { setList((await api('GET', '/v1/registrations')).registrations); } catch (e) { setMsg({ error: true, text: e.message }); }
  }
  useEffect(() => { load(); }, []);
  async function decide(r, decision) {
    setBusy(true);
    try {
      await api('POST', `/v1/registrations/${encodeURIComponent(r.party)}`, { decision, vkey: r.vkey });
      setMsg({ text: t(decision === 'approve' ? 'operator.approved' : 'operator.refused', { party: r.party }) });
    } catch (e) { setMsg({ error: true, text: t('operator.failed', { why: e.message }) }); }
    setBusy(false);
    load();
  }
  return html`<${Screen} title=${t('operator.title')}>
    <p>${t('operator.help')}</p>
    <${Status} msg=${msg} />
    ${list && !list.length && html`<p>${t('operator.none')}</p>`}
    ${list && list.length > 0 && html`<div class="table-wrap" role="region" aria-label=${t('operator.pending', { n: list.length })} tabindex="0"><table>
      <caption>${t('operator.pending', { n: list.length })}</caption>
      <thead><tr><th scope="col">${t('operator.party')}</th><th scope="col">${t('operator.keyid')}</th>
        <th scope="col">${t('operator.note')}</th><th scope="col">${t('operator.received')}</th>
        <th scope="col">${t('operator.address')}</th><th scope="col">${t('operator.decide')}</th></tr></thead>
      <tbody>${list.map((r) => html`<tr>
        <th scope="row">${r.party}</th>
        <td><code title=${r.vkey}>${r.vkey.split('+')[1]}</code></td>
        <td>${r.note || '—'}</td><td><${Time} t=${r.received} /></td><td>${r.address}</td>
        <td><button type="button" disabled=${busy} aria-label=${t('operator.approve.of', { party: r.party })} onClick=${() => decide(r, 'approve')}>${t('operator.approve')}</button>
          ${' '}<button type="button" disabled=${busy} aria-label=${t('operator.refuse.of', { party: r.party })} onClick=${() => decide(r, 'refuse')}>${t('operator.refuse')}</button></td>
      </tr>`)}</tbody></table></div>`}
  <//>`;
}
