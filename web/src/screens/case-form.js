// case-form.js: the fields of a case record type, drawn from the schema
// the node publishes (GET /v1/framework/case-types) and read back into a
// body: one control per field, by kind (a text, a long text, a date and
// time in the user's zone, a choice, a confirmation box, a number, one
// item a line), required ones marked, errors next to their field.  Labels
// come from the catalogs (cf.FIELD); the rules from the node's answer.

import { t } from '../i18n.js';
import * as V from '../validate.js';
import { api, S } from '../api.js';
import { html, Field, Select } from '../ui.js';
import { FilePick } from './case-files.js';

// The node's case types, fetched once a session: {mechanisms, byType}.
export async function caseTypes() {
  if (!S.caseTypes) {
    const r = await api('GET', '/v1/framework/case-types');
    const byType = {};
    for (const m of r.mechanisms) for (const ty of m.types) byType[ty.name] = { ...ty, mech: m };
    S.caseTypes = { mechanisms: r.mechanisms, byType };
  }
  return S.caseTypes;
}

const LONG = 4096; // a text longer than this is a text area

function control(f) {
  switch (f.kind) {
    case 'enum': return Select('', f.vocab, f.required ? t('c.choose') : t('c.none'));
    case 'time': return (a) => html`<input ...${a} type="datetime-local" />`;
    case 'int': return (a) => html`<input ...${a} type="number" inputmode="numeric" min=${f.min} max=${f.max} />`;
    case 'texts': case 'parties': return (a) => html`<textarea ...${a} rows="3"></textarea>`;
    case 'text': return f.max > LONG ? (a) => html`<textarea ...${a} rows="5"></textarea>` : (a) => html`<input ...${a} />`;
    default: return (a) => html`<input ...${a} autocomplete="off" />`;
  }
}

// The label of a field: its catalog text, "(optional)" when not required.
function label(f) {
  const l = t(`cf.${f.name}`);
  return f.required ? l : t('case.optional', { label: l });
}

function help(f) {
  const k = `cf.${f.name}.help`;
  const own = t(k) === k ? '' : t(k);
  const lines = f.kind === 'texts' || f.kind === 'parties' ? t('case.oneline') : '';
  const zone = f.kind === 'time' ? t('case.localtime') : '';
  return [own, lines, zone].filter(Boolean).join(' ') || undefined;
}

// The fields of case type `type` (from caseTypes().byType), with `errs`.
// A `files` field (sealed documents carried apart) is a file picker when
// the form can upload (`withFiles`: the case screen, case-files.js), else
// left out (the opening forms: attach files to a later record).  STIX
// objects (an `objects` field) are sent with `comity attribution evidence
// --stix`: the form does not take them yet.
export function CaseFields({ type, errs, withFiles }) {
  return type.fields.filter((f) => (f.kind !== 'files' || withFiles) && f.kind !== 'objects').map((f) => (f.kind === 'files'
    ? html`<${FilePick} f=${f} errs=${errs} />`
    : f.kind === 'true' || f.kind === 'bool'
    ? html`<div class="field check"><input id=${`f-${f.name}`} name=${f.name} type="checkbox"
        aria-invalid=${errs[f.name] ? 'true' : 'false'}
        aria-describedby=${errs[f.name] ? `${f.name}-err` : (help(f) ? `${f.name}-help` : undefined)} />
        <label for=${`f-${f.name}`}>${label(f)}</label>
        ${help(f) && html`<p id=${`${f.name}-help`} class="help">${help(f)}</p>`}
        ${errs[f.name] && html`<p id=${`${f.name}-err`} class="field-error">${errs[f.name]}</p>`}</div>`
    : html`<${Field} id=${f.name} label=${label(f)} errs=${errs} help=${help(f)}>${control(f)}<//>`));
}

// The body the form holds for `type`: fields left empty are left out.
export function readCaseFields(type, elements) {
  const body = {};
  for (const f of type.fields) {
    const el = elements[f.name];
    if (!el || f.kind === 'files') continue; // files: case-files.js
    const v = V.caseFieldValue(f, el.value, el.checked);
    if (v !== undefined) body[f.name] = v;
  }
  return body;
}
