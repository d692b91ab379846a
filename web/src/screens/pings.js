// pings.js: #/pings, answers to pings per contact.

import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { html, Time, Screen, Status } from '../ui.js';

export function Pings() {
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
