// i18n-keys.mjs: every catalog key the UI's code uses exists in the English
// catalog (src/i18n.js), and in French and Arabic for the screens those
// cover (now every screen, and validate.js's messages).  Run by
// tests/cli/web_ui.sh:
//
//   node test/i18n-keys.mjs [CASE_TYPES_JSON]
//
// Keys written whole (t('inbox.title')) are checked one by one.  Keys
// built from data (t(`cf.${name}`)) are checked for every value the data
// can take: the case types, fields and mechanisms the node publishes
// (GET /v1/framework/case-types, saved to CASE_TYPES_JSON), the case
// roles, the ladder's rungs, the directory's changes.  A template key that
// is none of these fails, so a new one must be listed here.
// Prints "ok ..." / "FAIL ..." lines; exits 1 if any check failed.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOGS, unknownKeys } from '../src/i18n.js';

const [typesFile] = process.argv.slice(2);
let fails = 0;
const ok = (m) => console.log(`ok   ${m}`);
const bad = (m) => { console.log(`FAIL ${m}`); fails++; };

const files = [];
(function walk(d) {
  for (const e of readdirSync(d, { withFileTypes: true })) {
    if (e.isDirectory()) walk(join(d, e.name));
    else if (e.name.endsWith('.js')) files.push(join(d, e.name));
  }
})(new URL('../src', import.meta.url).pathname);

// t('key'), t("key"), t(`key`) and t(`pre.${x}.post`) in the code
const literal = new Map(); // key -> [file]
const templates = new Map(); // pattern -> [file]
for (const f of files) {
  const src = readFileSync(f, 'utf8');
  for (const m of src.matchAll(/\bt\(\s*(['"])([^'"]+)\1/g)) literal.set(m[2], [...(literal.get(m[2]) || []), f]);
  for (const m of src.matchAll(/\bt\(\s*`([^`]+)`/g)) {
    if (!m[1].includes('${')) literal.set(m[1], [...(literal.get(m[1]) || []), f]);
    else templates.set(m[1].replace(/\$\{[^}]+\}/g, '*'), [...(templates.get(m[1].replace(/\$\{[^}]+\}/g, '*')) || []), f]);
  }
}
// keys kept in tables and passed to t() later (app.js's NAV, cases.js's
// OPENINGS): quoted strings of the catalogs' key shape
for (const f of files) {
  const src = readFileSync(f, 'utf8');
  for (const m of src.matchAll(/'((?:nav|case|cases|act|dir|inbox|msg|rc|ping|pings|log|login|alerts|v|files)\.[a-z0-9.-]+)'/g))
    if (!m[1].endsWith('.')) literal.set(m[1], [...(literal.get(m[1]) || []), f]);
}
const en = CATALOGS.en;
const missing = [...literal.keys()].filter((k) => !(k in en));
if (missing.length) bad(`keys used but not in the English catalog: ${missing.map((k) => `${k} (${literal.get(k)[0].replace(/.*\/src\//, '')})`).join(', ')}`);
else ok(`all ${literal.size} keys written in the code are in the English catalog`);

// the values each template key takes
const types = typesFile ? JSON.parse(readFileSync(typesFile, 'utf8')) : null;
const mechs = types ? types.mechanisms.map((m) => m.name) : [];
const typeNames = types ? [...new Set(types.mechanisms.flatMap((m) => m.types.map((x) => x.name)))] : [];
const fieldNames = types ? [...new Set(types.mechanisms.flatMap((m) => m.types.flatMap((x) => x.fields.map((f) => f.name))))] : [];
const VALUES = {
  'cf.*': fieldNames,
  'cf.*.help': null, // optional: a field without help has none
  'act.*': typeNames,
  'mech.*': mechs,
  'case.new.*': mechs,
  'case.new.*.help': mechs,
  'role.*': ['requester', 'requested', 'secretariat', 'opener', 'named', 'party'],
  'rung.*': ['technical-contact', 'diplomatic-contact', 'consultations', 'good-offices'],
  'dir.*': ['nominated', 'updated', 'withdrawn'],
  'inbox.*': ['type', 'state', 'severity', 'sector'],
  'case.refs.*': ['mla', 'help'],
  'files.*': ['sealing', 'sending', 'fetching'],
  'attribution.target.*': ['evidence', 'claims'],
  'attribution.kind.*': ['case', 'incident', 'evidence', 'indicator', 'actor', 'state', 'report'],
};
for (const [pat, where] of templates) {
  if (!(pat in VALUES)) { bad(`template key ${pat} (${where[0].replace(/.*\/src\//, '')}): list its values in test/i18n-keys.mjs`); continue; }
  const vals = VALUES[pat];
  if (vals === null) continue;
  if (!vals.length) { bad(`template key ${pat}: no values to check (give the case types file)`); continue; }
  const miss = vals.map((v) => pat.replace('*', v)).filter((k) => !(k in en));
  if (miss.length) bad(`${pat}: not in the English catalog: ${miss.join(', ')}`);
  else ok(`${pat}: all ${vals.length} in the English catalog`);
}

// French and Arabic: every key of every screen (and of the components
// they share, and validate.js's messages), those built from case data
// included
const REQUIRED = /\/src\/(app|ui|api|router|validate|alerts)\.js$|\/screens\/[a-z-]+\.js$/;
for (const lang of ['fr', 'ar']) {
  const miss = [...literal.entries()].filter(([k, fs]) => fs.some((f) => REQUIRED.test(f)) && !(k in CATALOGS[lang])).map(([k]) => k);
  for (const [pat, where] of templates) {
    if (!where.some((f) => REQUIRED.test(f)) || !VALUES[pat]) continue;
    miss.push(...VALUES[pat].map((v) => pat.replace('*', v)).filter((k) => !(k in CATALOGS[lang])));
  }
  if (miss.length) bad(`${lang}: keys of the screens missing: ${miss.join(', ')}`);
  else ok(`${lang}: every key of every screen`);
}
const unknown = unknownKeys();
if (unknown.length) bad(`catalog keys that English lacks (typos?): ${unknown.join(', ')}`);
else ok('no catalog has a key English lacks');
process.exit(fails ? 1 : 0);
