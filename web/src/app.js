// app.js: comity's web UI, the shell.  A client of the node's HTTP API, like
// the `comity` command: it signs, seals and opens records here in the
// browser (crypto.js) and posts them to POST /v1/records.  One file per
// screen under screens/, declared in SCREENS below (hash routes, router.js):
//   #/login            load the key file, log in (challenge signed here)
//   #/inbox            awaiting you / awaiting others, overdue then due first
//   #/message/ID       a message, its thread, the actions allowed now
//   #/record/ID        any record: its envelope, its receipt and witnesses checked here
//   #/compose/TYPE     a notification or a request
//   #/compose/ping     a communication check (ping) to contacts
//   #/pings            response statistics of pings
//   #/directory        every state's contacts; your state's: nominate, withdraw
//   #/log              the node's log: checkpoint checked here
//   #/cases            your open cases with their clocks, overdue first
//   #/case/ID          a case: status, clocks, thread, the actions allowed now
//   #/case-new/MECH    open a consultation or an evidence request
//   #/alerts           e-mail alerts: told that something awaits, never what
//   #/register         a newcomer: make or load a key, ask to be registered
//   #/operator         the node's operator: registration requests to decide
//   #/norms...         norms: catalogue, declarations, reports, positions (norms.js)
// Text comes from the catalogs of i18n.js.  Every control has a label and
// works from the keyboard; each screen focuses its heading when shown, and
// messages go to a live region.

import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { t, LANGS, setLang, current, initLang } from './i18n.js';
import { S, api, parties, acceptPartyKey } from './api.js';
import { route, go, lazy } from './router.js';
import { html, Screen, Status } from './ui.js';
import { Alerts } from './alerts.js';
import { Login } from './screens/login.js';
import { Inbox } from './screens/inbox.js';
import { Message } from './screens/message.js';
import { Compose } from './screens/compose.js';
import { ComposePing } from './screens/compose-ping.js';
import { Directory } from './screens/directory.js';
import { Log } from './screens/log.js';
import { Cases } from './screens/cases.js';
import { Case } from './screens/case.js';
import { CaseOpen } from './screens/case-open.js';
import { Attribution } from './screens/attribution.js';
import { Spyware, SpywareVendor, SpywareReport } from './screens/spyware.js';
import { Record } from './screens/record.js';
import { KeyWarnings } from './pins.js';
import { Norms, NormsDeclarations, NormsReports, NormsPositions } from './screens/norms.js';

// The statistics (charts, uPlot): a chunk of their own, fetched when opened.
const Pings = lazy(() => import('./screens/pings.js'), 'Pings', () => html`<p>${t('loading')}</p>`);
// Registration and the operator's screen: opened by newcomers and by the
// operator, never by a party's inbox, so fetched only when opened too.
const Register = lazy(() => import('./screens/register.js'), 'Register', () => html`<p>${t('loading')}</p>`);
const Operator = lazy(() => import('./screens/operator.js'), 'Operator', () => html`<p>${t('loading')}</p>`);

// The screens: route name -> how it is drawn from the route's argument.
// An unknown name shows the inbox.
const SCREENS = {
  login: () => html`<${Login} />`,
  inbox: () => html`<${Inbox} />`,
  message: (arg) => html`<${Message} id=${arg} key=${arg} />`,
  record: (arg) => html`<${Record} id=${arg} key=${arg} />`,
  compose: (arg) => (arg === 'ping' ? html`<${ComposePing} />`
    : html`<${Compose} type=${arg === 'request' ? 'request' : 'notification'} key=${arg} />`),
  pings: () => html`<${Pings} />`,
  directory: () => html`<${Directory} />`,
  log: () => html`<${Log} />`,
  cases: () => html`<${Cases} />`,
  case: (arg) => html`<${Case} id=${arg} key=${arg} />`,
  'case-new': (arg) => html`<${CaseOpen} mech=${arg} key=${arg} />`,
  alerts: () => html`<${Alerts} api=${api} Screen=${Screen} Status=${Status} />`,
  attribution: (arg) => html`<${Attribution} id=${arg} key=${arg} />`,
  spyware: () => html`<${Spyware} />`,
  'spyware-vendor': (arg) => html`<${SpywareVendor} id=${arg} key=${arg} />`,
  register: () => html`<${Register} />`,
  operator: () => html`<${Operator} />`,
  'spyware-report': () => html`<${SpywareReport} />`,
  norms: () => html`<${Norms} />`,
  'norms-declarations': (arg) => html`<${NormsDeclarations} state=${arg} key=${arg} />`,
  'norms-reports': (arg) => html`<${NormsReports} arg=${arg} key=${arg} />`,
  'norms-positions': (arg) => html`<${NormsPositions} topic=${arg} key=${arg} />`,
};

// The operator's session (no key: no records to sign or open) has its own
// screens and navigation; a party's has no operator screen.
const OPERATOR_SCREENS = ['operator', 'log'];
const OPERATOR_NAV = [
  ['#/operator', 'nav.operator', (r) => r.name === 'operator'],
  ['#/log', 'nav.log', (r) => r.name === 'log'],
];

// The navigation: link, catalog key, and when it is the current page.
const NAV = [
  ['#/inbox', 'nav.inbox', (r) => r.name === 'inbox'],
  ['#/cases', 'nav.cases', (r) => r.name === 'cases' || r.name === 'case' || r.name === 'case-new'],
  ['#/compose/notification', 'nav.notification', (r) => r.name === 'compose' && r.arg !== 'request' && r.arg !== 'ping'],
  ['#/compose/request', 'nav.request', (r) => r.name === 'compose' && r.arg === 'request'],
  ['#/compose/ping', 'nav.ping', (r) => r.name === 'compose' && r.arg === 'ping'],
  ['#/pings', 'nav.pings', (r) => r.name === 'pings'],
  ['#/directory', 'nav.directory', (r) => r.name === 'directory'],
  ['#/log', 'nav.log', (r) => r.name === 'log'],
  ['#/alerts', 'nav.alerts', (r) => r.name === 'alerts'],
  ['#/spyware', 'nav.spyware', (r) => r.name.startsWith('spyware')],
  ['#/norms', 'nav.norms', (r) => r.name === 'norms' || r.name.startsWith('norms-')],
];

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
    api('GET', '/v1/session').then((s) => {
      S.csrf = s.csrf;
      if (s.role === 'operator') Object.assign(S, { party: s.party, role: s.role }); // it needs no key
    }, () => {}).finally(() => setReady(true));
    return () => window.removeEventListener('hashchange', on);
  }, []);
  if (!ready) return html`<main id="main"><p>${t('loading')}</p></main>`;
  const operator = S.role === 'operator' && S.csrf;
  const logged = (S.key && S.csrf) || operator;
  let name = logged ? r.name : r.name === 'register' ? 'register' : 'login';
  if (operator && !OPERATOR_SCREENS.includes(name)) name = 'operator';
  if (!operator && name === 'operator') name = 'inbox';
  const nav = operator ? OPERATOR_NAV : NAV;
  async function logout() {
    try { await api('DELETE', '/v1/session'); } catch { /* already gone */ }
    Object.assign(S, { key: null, party: null, role: null, csrf: null, parties: null, caseTypes: null });
    go('#/login');
  }
  const screen = (SCREENS[name] || SCREENS.inbox)(r.arg);
  return html`
    <a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById('screen-title')?.focus(); }}>${t('skip')}</a>
    <header><p class="brand">comity</p>
      ${logged && html`<nav aria-label=${t('nav.main')}><ul>
        ${nav.map(([href, key, cur]) => html`<li><a href=${href} aria-current=${cur({ name, arg: r.arg }) ? 'page' : undefined}>${t(key)}</a></li>`)}
      </ul></nav>
      <p class="who">${t('who')} <strong>${S.party}</strong> <button type="button" onClick=${logout}>${t('logout')}</button></p>`}
      <${LangChooser} onChange=${() => setLangTick((n) => n + 1)} />
    </header>
    <main id="main">${!operator && logged && html`<${KeyWarnings} party=${S.party} load=${parties}
      accept=${(name) => acceptPartyKey(name)} />`}${screen}</main>`;
}

initLang();
const root = document.getElementById('app');
root.textContent = '';
render(html`<${App} />`, root);
