#!/usr/bin/env bash
# node_tls.sh: what the node's TLS offers (src/node/tls.c,
# cy_tls_priorities), asked with gnutls-cli offering one kind of suite at a
# time: TLS 1.3 and TLS 1.2 ECDHE with AES-GCM or ChaCha20-Poly1305 are
# served; TLS 1.2 CBC suites, with an HMAC-SHA-256 or an HMAC-SHA-1, are
# refused (TAXII 2.1 section 8.2.2).  The node's order wins over the
# client's (%SERVER_PRECEDENCE: a client preferring ChaCha20 or P-384 gets
# AES-GCM and X25519), and TLS 1.3's finite-field groups are refused
# (ECDHE only).
source "$(dirname "$0")/node_lib.bash"
if ! command -v gnutls-cli >/dev/null; then
  echo "gnutls-cli not installed (scripts/install-deps installs gnutls-bin)"; exit 77
fi

D="$T/node"
init_node "$D" tls.comity.example
serve "$D"
PORT=${URL##*:}

# offers PRIORITY: prints the protocol and cipher the node agreed to, or
# "refused" when the handshake failed.
offers() {
  local d
  d=$(printf 'GET /taxii2/ HTTP/1.0\r\n\r\n' |
      timeout 20 gnutls-cli --insecure --priority "$1" -p "$PORT" 127.0.0.1 2>&1 |
      sed -n 's/^- Description: //p' | head -1)
  echo "${d:-refused}"
}
V12='NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:-MAC-ALL'
got=$(offers 'NORMAL:-VERS-ALL:+VERS-TLS1.3')
case "$got" in "(TLS1.3-X.509)"*) ok "TLS 1.3 ($got)";; *) bad "TLS 1.3: got '$got'";; esac
check "TLS 1.2 ECDHE AES-128-GCM" "(TLS1.2-X.509)-(ECDHE-SECP256R1)-(ECDSA-SHA256)-(AES-128-GCM)" \
  "$(offers "$V12:+AES-128-GCM:+AEAD:-GROUP-ALL:+GROUP-SECP256R1")"
got=$(offers "$V12:+CHACHA20-POLY1305:+AEAD")
case "$got" in *CHACHA20-POLY1305*) ok "TLS 1.2 ECDHE ChaCha20-Poly1305 ($got)";;
  *) bad "TLS 1.2 ChaCha20-Poly1305: got '$got'";; esac
check "TLS 1.2 AES-128-CBC with HMAC-SHA-256 refused" refused "$(offers "$V12:+AES-128-CBC:+SHA256")"
check "TLS 1.2 AES-256-CBC with HMAC-SHA-1 refused" refused "$(offers "$V12:+AES-256-CBC:+SHA1")"
check "TLS 1.2 AES-128-CBC with HMAC-SHA-1 refused" refused "$(offers "$V12:+AES-128-CBC:+SHA1")"
check "TLS 1.1 refused" refused "$(offers 'NORMAL:-VERS-ALL:+VERS-TLS1.1')"
# the server's order counts: the client lists ChaCha20 (or P-384) first
check "TLS 1.2: the node's cipher order wins" \
  "(TLS1.2-X.509)-(ECDHE-X25519)-(ECDSA-SHA256)-(AES-256-GCM)" \
  "$(offers "$V12:+CHACHA20-POLY1305:+AES-256-GCM:+AEAD")"
check "TLS 1.3: the node's cipher order wins" \
  "(TLS1.3-X.509)-(ECDHE-X25519)-(ECDSA-SECP256R1-SHA256)-(AES-128-GCM)" \
  "$(offers 'NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+CHACHA20-POLY1305:+AES-128-GCM')"
check "TLS 1.3: the node's group order wins" \
  "(TLS1.3-X.509)-(ECDHE-X25519)-(ECDSA-SECP256R1-SHA256)-(AES-256-GCM)" \
  "$(offers 'NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-SECP384R1:+GROUP-X25519')"
# ECDHE only: no finite-field group in TLS 1.3
check "TLS 1.3 ffdhe2048 refused" refused \
  "$(offers 'NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-FFDHE2048')"
check "TLS 1.3 ffdhe4096 refused" refused \
  "$(offers 'NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-FFDHE4096')"
# the served page is the node's, over an AEAD suite
printf 'GET /taxii2/ HTTP/1.0\r\nAccept: %s\r\n\r\n' "$TAXII" |
  timeout 20 gnutls-cli --insecure -p "$PORT" 127.0.0.1 >"$T/page" 2>&1 || true
grep -q '"title"' "$T/page" && ok "a request is answered over TLS" || bad "no answer: $(tail -3 "$T/page")"
stop_node
finish
