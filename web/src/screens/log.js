// log.js: #/log, the node's checkpoint, its signature checked here under
// the log key, with its witnesses' cosignatures.

import { useEffect, useState } from 'preact/hooks';
import * as C from '../crypto.js';
import * as R from '../receipt.js';
import { S, nodeInfo } from '../api.js';
import { html, Screen, Status } from '../ui.js';

export function Log() {
  const [st, setSt] = useState(null);
  const [msg, setMsg] = useState(null);
  useEffect(() => {
    (async () => {
      const n = await nodeInfo();
      S.node = null; // the checkpoint moves: fetch it again next time
      if (!n.checkpoint) throw new Error('the node has no checkpoint yet');
      setSt({ n, cp: R.checkCheckpoint(n.checkpoint, n.vkey) });
    })().catch((e) => setMsg({ error: true, text: e.message }));
  }, []);
  return html`<${Screen} title="Log">
    <${Status} msg=${msg} />
    ${st && html`<dl class="body">
      <dt>Origin</dt><dd>${st.cp.origin}</dd>
      <dt>Entries</dt><dd>${st.cp.size}</dd>
      <dt>Root hash</dt><dd><code>${C.b64encode(st.cp.root)}</code></dd>
      <dt>Log key</dt><dd><code>${st.n.vkey}</code></dd>
      <dt>Checkpoint</dt><dd>signature verified in this browser under the log key</dd>
      <dt>Witness cosignatures</dt><dd>${st.cp.cosigners.length ? st.cp.cosigners.join(', ') : 'none'}</dd>
    </dl>`}
  <//>`;
}
