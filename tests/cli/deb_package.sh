#!/usr/bin/env bash
# deb_package.sh: the Debian package scripts/deb builds (make deb): its
# control fields, that it holds the binary, the web UI, the hardened
# systemd unit and a man page per command made from the help texts (each
# renders), and lintian's verdict when asked (COMITY_LINTIAN=1).  Skips (77)
# without dpkg-deb, dpkg-shlibdeps or fakeroot (scripts/install-deps
# installs them).  Built from the test build's binary, unstripped (an ASan
# binary: the package's form is checked, not its binary).
source "$(dirname "$0")/node_lib.bash"
for t in dpkg-deb dpkg-shlibdeps fakeroot; do
  command -v "$t" >/dev/null || { echo "skip: $t missing (run scripts/install-deps)"; exit 77; }
done
SRC=${COMITY_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
mkdir -p "$T/web/assets" && echo '<!doctype html><title>comity</title>' >"$T/web/index.html"
echo 'x' >"$T/web/assets/app.js"
deb=$("$SRC/scripts/deb" "$COMITY_BIN" "$T/out" --web "$T/web" --version 1.2.3 --no-strip --fast)
check "the package is made" "$T/out/comity_1.2.3_$(dpkg --print-architecture).deb" "$deb"
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$T/files"
has() { grep -qx "$1" "$T/files" && ok "holds $1" || bad "no $1 in the package"; }
has /usr/bin/comity
has /usr/share/comity/web/index.html
has /usr/share/comity/web/assets/app.js
has /lib/systemd/system/comity.service
has /usr/share/man/man1/comity.1.gz
has /usr/share/doc/comity/copyright
cmds=$("$COMITY_BIN" help | sed -n 's/^  \([a-z]*\) .*/\1/p')
missing=""
for c in $cmds; do grep -qx "/usr/share/man/man1/comity-$c.1.gz" "$T/files" || missing="$missing $c"; done
check "a man page for every command ($(echo $cmds | wc -w))" "" "$missing"
check "control: package and version" "comity 1.2.3" "$(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version)"
dpkg-deb -f "$deb" Depends | grep -q 'libsodium23' && ok "control: Depends from dpkg-shlibdeps" ||
  bad "Depends: $(dpkg-deb -f "$deb" Depends)"
mkdir "$T/x" && dpkg-deb -x "$deb" "$T/x"
check "the binary runs from the package" 0 "$("$T/x/usr/bin/comity" help >/dev/null 2>&1; echo $?)"
MANWIDTH=80 man -l "$T/x/usr/share/man/man1/comity-key.1.gz" 2>/dev/null >"$T/key.man" || true
if [ -s "$T/key.man" ]; then
  grep -q "comity-key - show a key file's identity" "$T/key.man" &&
    grep -q -- "comity key backup OUT --to AGE1" "$T/key.man" &&
    ok "comity-key(1) renders: NAME and SYNOPSIS from the help text" || bad "comity-key(1): $(head -12 "$T/key.man")"
else
  zcat "$T/x/usr/share/man/man1/comity-key.1.gz" | grep -q '^\.SH SYNOPSIS' && ok "comity-key(1) has a SYNOPSIS (man not here)" ||
    bad "comity-key(1)"
fi
u="$T/x/lib/systemd/system/comity.service"
for k in 'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ReadWritePaths=/var/lib/comity' 'User=comity' \
         'ExecStart=/usr/bin/comity serve /var/lib/comity/node --log-json --listen 127.0.0.1:8443'; do
  grep -qx "$k" "$u" && ok "unit: $k" || bad "unit lacks $k"
done
if command -v systemd-analyze >/dev/null; then
  # the unit as systemd reads it (the binary it names is the package's)
  sed "s|/usr/bin/comity|$T/x/usr/bin/comity|" "$u" >"$T/comity.service"
  systemd-analyze verify "$T/comity.service" 2>"$T/verify.txt" || true
  grep -v -e "man comity" -e "Documentation" "$T/verify.txt" | grep -q . &&
    bad "systemd-analyze verify: $(cat "$T/verify.txt")" || ok "systemd-analyze verify: no complaint"
  exposure=$(systemd-analyze security --offline=yes "$T/comity.service" 2>/dev/null |
    sed -n 's/.*Overall exposure level for comity.service: \([0-9.]*\).*/\1/p')
  [ -n "$exposure" ] && awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }' &&
    ok "systemd-analyze security: exposure $exposure (at most 2.0)" || bad "exposure '$exposure'"
fi
# lintian takes minutes on the 16 MB ASan binary: make deb runs it on the
# release package; here only when asked (COMITY_LINTIAN=1)
if [ "${COMITY_LINTIAN:-0}" = 1 ] && command -v lintian >/dev/null; then
  # an unstripped ASan test binary and a package built outside a source
  # package: the tags that come from that, not from the packaging
  lintian --no-tag-display-limit \
    --suppress-tags unstripped-binary-or-object,no-manual-page,hardening-no-fortify-functions,embedded-library,spelling-error-in-binary,no-copyright-file,statically-linked-binary,binary-compiled-with-profiling-enabled,shared-library-lacks-prerequisites,library-not-linked-against-libc,hardening-no-pie,hardening-no-relro,hardening-no-bindnow \
    "$deb" >"$T/lintian.txt" 2>&1 || true
  grep -q '^E: ' "$T/lintian.txt" && bad "lintian errors: $(grep '^E: ' "$T/lintian.txt")" ||
    ok "lintian: no error ($(grep -c '^W: ' "$T/lintian.txt" || true) warning(s))"
else
  echo "note: lintian skipped (COMITY_LINTIAN=1 runs it; make deb always does)"
fi
finish
