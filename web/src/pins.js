// pins.js: the parties' keys this browser has seen, pinned, so that a node
// (or whoever controls it) cannot swap a party's key unnoticed.  GET
// /v1/parties gives each party's verifier key and age recipient; the first
// time this browser sees a party its keys are pinned in localStorage
// (`comity.pins`, per node: storage belongs to the node's address); when
// the node later answers another key for a pinned party, the party is
// marked changed, a warning says so on every screen, nothing is sealed to
// it (api.js's recipientsFor refuses) and its records are checked against
// the pinned key, until the user accepts the new key here.  What this does
// and does not promise: docs/ui.md, "Pinned keys".

import { useEffect, useState } from 'preact/hooks';
import { t } from './i18n.js';
import { html, Time } from './ui.js';

const STORE = 'comity.pins';
const EVENT = 'comity-pins';

function load() {
  try { return JSON.parse(localStorage.getItem(STORE) || '{}') || {}; } catch { return {}; }
}
function save(pins) {
  try { localStorage.setItem(STORE, JSON.stringify(pins)); } catch { /* storage off: this page only */ }
}
const keyId = (vkey) => (/\+([0-9a-f]{8})\+/.exec(vkey || '') || [])[1] || '?';

let changes = []; // the parties whose key differs from the pin: [{name, vkey, recipient, was}]

// Compares the node's list of parties with the pins: pins the new ones,
// marks each party whose key changed (p.changed = its pin).  Returns the
// list.
export function checkPins(list) {
  const pins = load();
  let dirty = false;
  changes = [];
  for (const p of list) {
    const pin = pins[p.name];
    if (!pin) {
      pins[p.name] = { vkey: p.vkey, recipient: p.recipient, since: new Date().toISOString() };
      dirty = true;
    } else if (pin.vkey !== p.vkey || pin.recipient !== p.recipient) {
      p.changed = pin;
      changes.push({ name: p.name, vkey: p.vkey, recipient: p.recipient, was: pin });
    }
  }
  if (dirty) save(pins);
  window.dispatchEvent(new Event(EVENT));
  return list;
}

// The user accepts the key the node now gives for `name`: it becomes the pin.
export function acceptKey(name, list) {
  const p = list.find((x) => x.name === name);
  if (!p) return;
  const pins = load();
  pins[name] = { vkey: p.vkey, recipient: p.recipient, since: new Date().toISOString() };
  save(pins);
  delete p.changed;
  changes = changes.filter((c) => c.name !== name);
  window.dispatchEvent(new Event(EVENT));
}

export const keyChanges = () => changes;

// The warning on every screen of a party's session: one entry per party
// whose key changed, with the old and new key ids and a button to accept.
// `load` fetches the parties (api.js's parties(), which calls checkPins);
// `accept` accepts one.
export function KeyWarnings({ party, load: fetchParties, accept }) {
  const [, setTick] = useState(0);
  useEffect(() => {
    const on = () => setTick((n) => n + 1);
    window.addEventListener(EVENT, on);
    if (party) fetchParties().catch(() => { /* shown by the screens */ });
    return () => window.removeEventListener(EVENT, on);
  }, [party]);
  if (!party || !changes.length) return null;
  return html`<section class="keywarn" role="alert" aria-labelledby="keywarn-title">
    <h2 id="keywarn-title">${t('webb_pin.title')}</h2>
    <p>${t('webb_pin.help')}</p>
    <ul>${changes.map((c) => html`<li>
      <strong>${c.name}</strong>: ${t('webb_pin.was', { old: keyId(c.was.vkey), now: keyId(c.vkey) })}
      ${c.was.recipient !== c.recipient && html` ${t('webb_pin.rcpt')}`}
      ${' '}${t('webb_pin.since')} <${Time} t=${c.was.since} />.
      ${' '}<button type="button" onClick=${() => accept(c.name)}
        aria-label=${t('webb_pin.accept', { party: c.name })}>${t('webb_pin.accept', { party: c.name })}</button></li>`)}</ul>
  </section>`;
}
