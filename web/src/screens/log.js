// log.js: #/log, the node's checkpoint, its signature checked here under
// the log key, and its witnesses' cosignatures checked here under the
// node's witness policy (quorum met or not, who cosigned).

import { useEffect, useState } from 'preact/hooks';
import * as C from '../crypto.js';
import * as R from '../receipt.js';
import { S, nodeInfo } from '../api.js';
import { t } from '../i18n.js';
import { html, Screen, Status } from '../ui.js';
import { Witnesses } from './record.js';

export function Log() {
  const [st, setSt] = useState(null);
  const [msg, setMsg] = useState(null);
  useEffect(() => {
    (async () => {
      S.node = null; // the checkpoint moves: fetch it again
      const n = await nodeInfo();
      S.node = null;
      if (!n.checkpoint) throw new Error(t('log.nocp'));
      setSt({ n, cp: R.checkCheckpoint(n.checkpoint, n.vkey, n.witness_policy) });
    })().catch((e) => setMsg({ error: true, text: e.message }));
  }, []);
  return html`<${Screen} title=${t('log.title')}>
    <${Status} msg=${msg} />
    ${st && html`<dl class="body">
      <dt>${t('log.origin')}</dt><dd>${st.cp.origin}</dd>
      <dt>${t('log.entries')}</dt><dd>${st.cp.size}</dd>
      <dt>${t('log.root')}</dt><dd><code>${C.b64encode(st.cp.root)}</code></dd>
      <dt>${t('log.key')}</dt><dd><code>${st.n.vkey}</code></dd>
      <dt>${t('log.cp')}</dt><dd>${t('log.cp.ok')}</dd>
      <dt>${t('log.witnesses')}</dt><dd>${st.cp.cosigners.length ? st.cp.cosigners.join(', ') : t('none')}</dd>
      <${Witnesses} w=${st.cp.witnesses} cosigners=${st.cp.cosigners} />
    </dl>`}
  <//>`;
}
