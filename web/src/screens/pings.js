// pings.js: #/pings, answers to pings per contact: the table of the last
// 30 days (the node's report, GET /v1/framework/pings), and the same
// figures over the last WEEKS weeks as charts (uPlot), one report a week:
// per contact, per state and per UN M49 region of the state (the node
// groups them, ?by=state and ?by=region: percentiles need the response
// times, which only the node has).
// This module and uPlot are a chunk of their own, fetched only when the
// screen opens (app.js declares it with lazy()); the inbox never loads it.
// Each chart is a canvas with a label, and its figures are also a table
// below it, for screen readers and keyboards.

import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { html, Time, Screen, Status } from '../ui.js';

const WEEKS = 8;
const WEEK_MS = 7 * 24 * 3600 * 1000;
// distinguishable in light and dark themes alike
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];

const ms = (v) => (v === null || v === undefined ? '—' : v < 60000 ? `${Math.round(v / 1000)} s`
  : v < 3600000 ? `${Math.round(v / 60000)} min` : `${(v / 3600000).toFixed(1)} h`);
const contact = (r) => `${r.party} (${r.kind})`;

// A state's row: its code and its region's name; a region's: its name.
const stateName = (r) => r.state;
const regionName = (r) => (r.region === 'none' ? t('pings.noregion') : r.name);

// The report of each of the last WEEKS weeks, oldest first, grouped by
// `by` ('' per contact, 'state', 'region'), each row named by `name`:
// {ends: [week end, ms], names: [name], p50: {name: [min|null]}, answered: {name: [%|null]}}.
async function weekly(to, by, name) {
  const ends = [];
  for (let i = WEEKS - 1; i >= 0; i--) ends.push(to - i * WEEK_MS);
  const reports = await Promise.all(ends.map((end) => api('GET',
    `/v1/framework/pings?from=${encodeURIComponent(new Date(end - WEEK_MS).toISOString())}&to=${encodeURIComponent(new Date(end).toISOString())}${by ? `&by=${by}` : ''}`)));
  const names = [...new Set(reports.flatMap((r) => r.rows.map(name)))].sort();
  const p50 = {}, answered = {};
  for (const n of names) { p50[n] = []; answered[n] = []; }
  reports.forEach((r) => {
    for (const n of names) {
      const row = r.rows.find((x) => name(x) === n);
      p50[n].push(row && row.p50_ms !== null ? row.p50_ms / 60000 : null);
      answered[n].push(row && row.count ? Math.round((row.answered / row.count) * 100) : null);
    }
  });
  return { ends, names, p50, answered };
}

// One line chart of `series` (name -> values by week), `unit` on the y
// axis (`range` fixes it, e.g. [0, 100] for a share).
function Chart({ id, label, unit, w, series, range }) {
  const box = useRef(null);
  useEffect(() => {
    if (!box.current) return undefined;
    const fg = getComputedStyle(document.body).color;
    const axis = { stroke: fg, grid: { stroke: 'rgba(128,128,128,.25)' }, ticks: { stroke: 'rgba(128,128,128,.5)' } };
    const width = Math.max(280, Math.min(720, box.current.clientWidth || 720));
    const plot = new uPlot({
      width, height: 240,
      scales: { x: { time: true }, ...(range ? { y: { range } } : {}) },
      axes: [{ ...axis }, { ...axis, label: unit }],
      series: [{}, ...w.names.map((n, i) => ({ label: n, stroke: COLOURS[i % COLOURS.length], width: 2, spanGaps: false }))],
    }, [w.ends.map((e) => e / 1000), ...w.names.map((n) => series[n])], box.current);
    return () => plot.destroy();
  }, [w]);
  return html`<figure class="chart">
    <figcaption id=${`${id}-cap`}>${label}</figcaption>
    <div ref=${box} role="img" aria-labelledby=${`${id}-cap`} aria-describedby=${`${id}-data`}></div>
    <details><summary>${t('pings.data')}</summary>
      <div class="table-wrap" role="region" tabindex="0" aria-label=${label}><table id=${`${id}-data`} aria-label=${label}><thead><tr><th scope="col">${t('pings.weekto')}</th>
        ${w.names.map((n) => html`<th scope="col">${n}</th>`)}</tr></thead>
      <tbody>${w.ends.map((e, i) => html`<tr><td><${Time} t=${new Date(e).toISOString()} /></td>
        ${w.names.map((n) => html`<td>${series[n][i] === null ? '—' : `${series[n][i].toFixed(series[n][i] % 1 ? 1 : 0)} ${unit}`}</td>`)}</tr>`)}</tbody></table></div>
    </details></figure>`;
}

export function Pings() {
  const [data, setData] = useState(null);
  const [w, setW] = useState(null);
  const [msg, setMsg] = useState(null);
  useEffect(() => {
    api('GET', '/v1/framework/pings').then((d) => {
      setData(d);
      const to = Date.parse(d.to);
      return Promise.all([weekly(to, '', contact), weekly(to, 'state', stateName), weekly(to, 'region', regionName)]);
    }).then(([c, st, rg]) => setW({ c, st, rg }), (e) => setMsg({ error: true, text: e.message }));
  }, []);
  return html`<${Screen} title=${t('pings.title')}>
    <${Status} msg=${msg} />
    ${data && html`<p>${t('pings.period')} <${Time} t=${data.from} /> – <${Time} t=${data.to} />.</p>
      ${data.rows.length ? html`<div class="table-wrap" role="region" tabindex="0" aria-label=${t('pings.caption')}><table aria-label=${t('pings.caption')}><thead><tr>
        <th scope="col">${t('pings.contact')}</th><th scope="col">${t('pings.kind')}</th><th scope="col">${t('pings.count')}</th>
        <th scope="col">${t('pings.answered')}</th><th scope="col">${t('pings.p50')}</th><th scope="col">${t('pings.p90')}</th>
        <th scope="col">${t('pings.unanswered')}</th></tr></thead>
        <tbody>${data.rows.map((r) => html`<tr><td>${r.party}</td><td>${r.kind}</td><td>${r.count}</td>
          <td>${r.answered}</td><td>${ms(r.p50_ms)}</td><td>${ms(r.p90_ms)}</td>
          <td>${Math.round(r.unanswered * 100)}%</td></tr>`)}</tbody></table></div>`
        : html`<p class="empty">${t('pings.none')}</p>`}`}
    ${w && w.c.names.length > 0 && html`<h2>${t('pings.overtime', { n: WEEKS })}</h2>
      <${Chart} id="chart-p50" label=${t('pings.chart.p50')} unit="min" w=${w.c} series=${w.c.p50} />
      <${Chart} id="chart-answered" label=${t('pings.chart.answered')} unit="%" w=${w.c} series=${w.c.answered} range=${[0, 100]} />
      <h2>${t('pings.bystate', { n: WEEKS })}</h2>
      <${Chart} id="chart-state-p50" label=${t('pings.chart.state.p50')} unit="min" w=${w.st} series=${w.st.p50} />
      <${Chart} id="chart-state-answered" label=${t('pings.chart.state.answered')} unit="%" w=${w.st} series=${w.st.answered} range=${[0, 100]} />
      <h2>${t('pings.byregion', { n: WEEKS })}</h2>
      <p class="help">${t('pings.region.help')}</p>
      <${Chart} id="chart-region-p50" label=${t('pings.chart.region.p50')} unit="min" w=${w.rg} series=${w.rg.p50} />
      <${Chart} id="chart-region-answered" label=${t('pings.chart.region.answered')} unit="%" w=${w.rg} series=${w.rg.answered} range=${[0, 100]} />`}
  <//>`;
}
