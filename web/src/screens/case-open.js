// case-open.js: #/case-new/MECH, opening a case: a consultation
// (consultation), an expedited preservation request (preservation, its six
// mandatory fields), a mutual-assistance request (mla) or an emergency
// request (emergency).  The form is the opening type's schema as the node
// publishes it (case-form.js), with the envelope: the requested party,
// the secretariat where the mechanism allows one, the records it is about
// and the sharing level.  Checked here, then sealed here (amber and red)
// to every party named and to the author, signed here, and posted; the
// node checks the envelope again (it cannot read a sealed body).

import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n.js';
import * as V from '../validate.js';
import { go } from '../router.js';
import { S, send } from '../api.js';
import { html, Screen, Status, Field, Select } from '../ui.js';
import { caseTypes, CaseFields, readCaseFields } from './case-form.js';

const list = (s) => (s || '').split(/[\s,]+/).filter(Boolean);

export function CaseOpen({ mech: name }) {
  const [types, setTypes] = useState(null);
  const [errs, setErrs] = useState({});
  const [msg, setMsg] = useState(null);
  const form = useRef(null);
  useEffect(() => { caseTypes().then(setTypes, (e) => setMsg({ error: true, text: e.message })); }, []);
  useEffect(() => {
    const first = form.current && form.current.querySelector('[aria-invalid="true"]');
    if (first) first.focus();
  }, [errs]);
  const mech = types && types.mechanisms.find((m) => m.name === name);
  const type = mech && types.byType[mech.opens];
  async function submit(ev) {
    ev.preventDefault();
    const f = ev.target.elements;
    const requested = f.to.value.trim();
    const thirds = f.third ? list(f.third.value) : [];
    const refs = list(f.refs.value);
    const tlp = f.tlp.value;
    const body = readCaseFields(type, f);
    const e = { ...V.checkCaseOpening(mech, S.party, requested, thirds, refs), ...V.checkCaseBody(type, body) };
    if (!V.TLPS.includes(tlp)) e.tlp = 'choose a sharing level';
    setErrs(e);
    if (Object.keys(e).length) { setMsg({ error: true, text: t('c.fix', { n: Object.keys(e).length }) }); return; }
    try {
      const r = await send(type.name, tlp, [requested, ...thirds], refs, body);
      setMsg({ text: t('c.sent', { type: type.name, id: r.id, index: r.log_index }) });
      go(`#/case/${r.id}`);
    } catch (err) { setMsg({ error: true, text: t('c.refused', { why: err.message }) }); }
  }
  return html`<${Screen} title=${t(`case.new.${name}`)}>
    ${mech && html`<p>${t(`case.new.${name}.help`)}</p>
    <form onSubmit=${submit} novalidate ref=${form}>
      <${Field} id="to" label=${t('case.to')} errs=${errs} help=${t('case.to.help')}>
        ${(a) => html`<input ...${a} autocomplete="off" />`}<//>
      ${mech.third_max > 0 && html`<${Field} id="third" label=${t('case.third')} errs=${errs} help=${t('case.third.help')}>
        ${(a) => html`<input ...${a} autocomplete="off" />`}<//>`}
      <${Field} id="refs" label=${mech.name === 'consultation' ? t('case.refs') : t('case.refs.opt')} errs=${errs}
        help=${t(`case.refs.${mech.name === 'mla' ? 'mla' : 'help'}`)}>${(a) => html`<input ...${a} autocomplete="off" />`}<//>
      <${Field} id="tlp" label=${t('c.tlp')} errs=${errs} help=${t('case.tlp.help')}>${Select('amber', V.TLPS)}<//>
      <${CaseFields} type=${type} errs=${errs} />
      <button type="submit">${t('c.send')}</button>
    </form>`}
    ${!mech && types && html`<p class="msg error" role="alert">${t('case.nomech', { name })}</p>`}
    <${Status} msg=${msg} />
  <//>`;
}
