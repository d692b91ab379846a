// case-schemas.mjs: validate.js checks case bodies as the node does.  The
// node publishes its tables (GET /v1/framework/case-types, saved to FILE;
// tests/test_cases.c checks that what it publishes is what it applies);
// here, for every type and field of that answer, checkCaseBody (which
// holds no field rule of its own) must accept a body of every required
// field with a value of its kind, and refuse, naming the field, each field
// one byte or item past its published limit, an enum word not listed, a
// time that is not one, and each required field left out.  The same
// samples as test_cases.c's test_schemas_published.  Run by
// tests/cli/web_ui.sh:  node test/case-schemas.mjs FILE
import { readFileSync } from 'node:fs';
import { checkCaseBody, caseFieldValue } from '../src/validate.js';

const types = JSON.parse(readFileSync(process.argv[2], 'utf8'));
let fails = 0, checks = 0;
const bad = (m) => { console.log(`FAIL ${m}`); fails++; };

function sample(f, over) {
  switch (f.kind) {
    case 'text': return 'x'.repeat(over ? f.max + 1 : 1);
    case 'time': return over ? '2026-02-31T00:00:00Z' : '2026-12-01T00:00:00Z';
    case 'enum': return over ? 'not-a-word' : f.vocab[0];
    case 'true': return over ? false : true;
    case 'bool': return over ? 'yes' : true;
    case 'int': return over ? f.max + 1 : f.min;
    case 'sha256': return over ? 'ABC' : '0123456789abcdef'.repeat(4);
    case 'party': return over ? 'Not A Party' : 'pk.mofa';
    default: return Array.from({ length: over ? f.max + 1 : 1 }, () => (f.kind === 'parties' ? 'pk.mofa' : 'x'));
  }
}

for (const m of types.mechanisms) {
  for (const ty of m.types) {
    const body = {};
    for (const f of ty.fields) if (f.required) body[f.name] = sample(f, false);
    const e = checkCaseBody(ty, body);
    checks++;
    if (!ty.more_rules && Object.keys(e).length) bad(`${ty.name}: a valid body refused: ${JSON.stringify(e)}`);
    for (const f of ty.fields) {
      checks++;
      const e2 = checkCaseBody(ty, { ...body, [f.name]: sample(f, true) });
      if (!e2[f.name]) bad(`${ty.name}.${f.name} (${f.kind}): past its limit, not refused`);
      if (f.required) {
        checks++;
        const b = { ...body };
        delete b[f.name];
        if (checkCaseBody(ty, b)[f.name] !== 'required') bad(`${ty.name}.${f.name}: missing, not refused as required`);
      }
    }
  }
}
// a form's text becomes the value of the field's kind
const conv = [
  [{ kind: 'int' }, '90', 90], [{ kind: 'texts' }, 'a\n\n b \n', ['a', 'b']], [{ kind: 'text' }, '  ', undefined],
  [{ kind: 'true' }, '', undefined], [{ kind: 'bool' }, '', false],
];
for (const [f, raw, want] of conv) {
  checks++;
  const got = caseFieldValue(f, raw, false);
  if (JSON.stringify(got) !== JSON.stringify(want)) bad(`caseFieldValue ${f.kind} '${raw}': ${JSON.stringify(got)}`);
}
console.log(fails ? `${fails} of ${checks} case schema checks failed` : `ok   validate.js checks case bodies by the node's published schemas (${checks} checks)`);
process.exit(fails ? 1 : 0);
