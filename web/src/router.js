// router.js: hash routes (#/NAME/ARG) to screens.  A screen is declared
// once, in app.js's table: its name, how it is drawn from the route's
// argument, and its entry in the navigation, if any.  A screen whose code
// is heavy is declared with lazy(): its module is fetched only when the
// screen opens (esbuild splits it into its own chunk).

import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { t } from './i18n.js';

// The current route: {name, arg} from location.hash ('#/message/ID' ->
// {name: 'message', arg: 'ID'}); the inbox when empty.
export function route() {
  const hash = location.hash.replace(/^#/, '') || '/inbox';
  const parts = hash.split('/').filter(Boolean);
  return { name: parts[0] || 'inbox', arg: parts.slice(1).join('/') };
}

// Goes to a hash route; the same route again draws its screen again.
export function go(hash) {
  if (location.hash !== hash) location.hash = hash;
  else window.dispatchEvent(new HashChangeEvent('hashchange'));
}

// A component that imports `load()` (a dynamic import) the first time it is
// drawn, shows `fallback` meanwhile, then draws the module's `name` export
// with the same props.
export function lazy(load, name, fallback) {
  let mod = null;
  return function Lazy(props) {
    const [, setReady] = useState(!!mod);
    const [err, setErr] = useState(null);
    useEffect(() => {
      if (!mod) load().then((m) => { mod = m; setReady(true); }, setErr);
    }, []);
    if (err) return h('p', { class: 'msg error', role: 'alert' }, t('screen.loadfail', { why: err.message }));
    return mod ? h(mod[name], props) : fallback();
  };
}
