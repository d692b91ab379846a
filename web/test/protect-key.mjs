// protect-key.mjs: writes a passphrase-protected copy of a key file, as
// `age -p -a` does (which asks for the passphrase on a terminal):
//   node test/protect-key.mjs IN OUT PASSPHRASE
import { readFileSync, writeFileSync } from 'node:fs';
import { Encrypter, armor } from 'age-encryption';

const [inp, out, pass] = process.argv.slice(2);
const e = new Encrypter();
e.setPassphrase(pass);
e.setScryptWorkFactor(15); // a test file: fast to open
writeFileSync(out, armor.encode(await e.encrypt(readFileSync(inp))), { mode: 0o600 });
