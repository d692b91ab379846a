#!/usr/bin/env bash
# case_files.sh: evidence files that travel (issue 16, point 4) against a
# real node: `comity case upload` seals a file to the case's parties and
# sends it, `comity case fetch` gets it back and opens it (byte for byte);
# the node refuses an upload on its headers (no credentials: before any
# of the body is read; over the cap; a record the uploader did not write
# or that does not name the file) and a body whose hash is not the one
# declared (nothing kept); a non-party gets exactly the answer an unknown
# hash gets; a failed upload can be sent again; a kill -9 during a 256 MiB
# upload leaves nothing half-stored and the node restarts clean; memory
# stays flat whatever the size (the node's and the command's peak RSS).
source "$(dirname "$0")/node_lib.bash"
C=$COMITY_BIN
D="$T/node"
cd "$T"
init_node "$D" hub.example/node
CAP=$((300 << 20)) # the node's cap on a file in this test
PARTIES="in.cert-in pk.fia us.cisa"
for p in $PARTIES; do
  "$C" keygen --party "$p" --out "$p.key" >/dev/null 2>&1
  "$C" key show "$p.key" >>peers.keys
done
mkdir -p conf
for p in $PARTIES; do
  tok=$("$C" party add "$D" "$p" --vkey "$("$C" key show "$p.key" | cut -d' ' -f1)" \
    --recipient "$("$C" key show "$p.key" | cut -d' ' -f2)" | sed -n 's/^token (shown once): //p')
  cp "$p.key" conf/
  eval "TOK_${p//[.-]/_}=$tok"
done
write_conf() { # the parties' client configs, for the node at $URL
  for p in $PARTIES; do
    tok=$(eval echo "\$TOK_${p//[.-]/_}")
    printf 'url = %s\ntoken = %s\nkey = %s.key\nkeys = ../peers.keys\n' "$URL" "$tok" "$p" >"conf/$p.conf"
  done
}
serve "$D" --insecure-http --max-file "$CAP"
write_conf
run() { # run PARTY ARGS...: comity ARGS with that party's config; out/err in files
  local p=$1; shift
  rc=0; "$C" "$@" --config "conf/$p.conf" >out 2>err || rc=$?
}
hput() { # hput PARTY-TOKEN PATH FILE [curl args]: PUT a raw body; prints the status
  local tok=$1 p=$2 f=$3; shift 3
  curl -s --noproxy '*' -T "$f" -H "Authorization: Token $tok" \
    -o "$T/body" -w '%{http_code}' "$URL$p" "$@"
}
hget() { # hget TOKEN PATH: GET, body in $T/body; prints the status
  curl -s --noproxy '*' -H "Authorization: Token $1" -o "$T/body" -w '%{http_code}' "$URL$2"
}
stored() { find "$D/files" -type f ! -path "$D/files/tmp/*" ! -name '*.refs' ! -name attached.log | wc -l; }
temps() { find "$D/files/tmp" -type f | wc -l; }
MLA=(--set requesting_authority='CERT-In 24/7 desk' --set subject='ransomware against a hospital'
     --set facts='encrypted on 1 Dec' --set assistance='server logs' --set purpose='prosecution')

# ---- a sealed MLA case: the requested state sends the logs it found ----------------------
run in.cert-in case open mla-request --to pk.fia --tlp amber "${MLA[@]}"
check "a sealed MLA request is opened" 0 "$rc"
CASE=$(cut -d' ' -f1 out)
head -c $((3 << 20)) /dev/urandom >logs.tar
run pk.fia case upload "$CASE" mla-partial logs.tar --set text='the logs of 1-3 Dec' --keep logs.tar.age
check "comity case upload: sealed, sent, uploaded" 0 "$rc"
read -r H SIZE REC < <(tail -1 out)
check "... the file is named by the SHA-256 of the age file" "$(sha256sum logs.tar.age | cut -d' ' -f1)" "$H"
check "... and its size" "$(stat -c %s logs.tar.age)" "$SIZE"
check "the node stores it under that hash" 1 "$(stored)"
age -d -i pk.fia.key logs.tar.age | cmp -s - logs.tar && ok "the age file opens with the age command (the uploader's key)" || bad "age -d failed"
run in.cert-in case fetch "$H" --out got.tar
check "the requester fetches it" 0 "$rc"
cmp -s got.tar logs.tar && ok "... byte for byte, opened with its key" || bad "fetched file differs"
run in.cert-in case fetch "$H" --out got.age --sealed
cmp -s got.age logs.tar.age && ok "--sealed gives the age file itself" || bad "sealed fetch differs"
run in.cert-in case show "$CASE"
check "the record that references it is in the thread" "$REC" "$(jq -r '.thread[1].id' out)"

# ---- who may fetch: parties only; a non-party gets the unknown hash's answer ---------------
UNKNOWN=$(printf x | sha256sum | cut -d' ' -f1)
s1=$(hget "$TOK_us_cisa" "/v1/files/$H"); b1=$(sed "s/$H/HASH/" "$T/body")
s2=$(hget "$TOK_us_cisa" "/v1/files/$UNKNOWN"); b2=$(sed "s/$UNKNOWN/HASH/" "$T/body")
check "a non-party: 404" 404 "$s1"
check "... exactly as for a hash the node does not hold (status)" "$s2" "$s1"
check "... (body)" "$b2" "$b1"
s3=$(hget "$OPTOKEN" "/v1/files/$H"); b3=$(sed "s/$H/HASH/" "$T/body")
check "the operator too: the unknown hash's answer" "$s2 $b2" "$s3 $b3"
run us.cisa case fetch "$H" --out x
check "comity case fetch by a non-party: exit 1" 1 "$rc"
grep -q "no file $H visible to you" err && ok "... 'no file ... visible to you'" || bad "said: $(cat err)"
[ ! -e x ] && ok "... and no output file" || bad "an output file was left"
s=$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' "$URL/v1/files/$H")
check "an anonymous fetch: 401" 401 "$s"

# ---- refusals on the headers, before any of the body ----------------------------------------
announce() { # announce TOKEN|- PATH LENGTH: headers only, a body announced and never sent
  python3 - "$URL" "$1" "$2" "$3" <<'PY'
import socket, sys, time, urllib.parse
url, tok, path, n = sys.argv[1:]
u = urllib.parse.urlparse(url)
s = socket.create_connection((u.hostname, u.port), timeout=10)
auth = "" if tok == "-" else "Authorization: Token %s\r\n" % tok
s.sendall(("PUT %s HTTP/1.1\r\nHost: x\r\n%sContent-Length: %s\r\n\r\n" % (path, auth, n)).encode())
t = time.time(); a = s.recv(65536).decode(errors="replace"); dt = time.time() - t
print(a.split(" ")[1] if a.startswith("HTTP/1.1") else "none", "fast" if dt < 5 else "slow(%.1fs)" % dt,
      "not-read" if "its body was not read" in a else "read?")
print(a.partition("\r\n\r\n")[2])
PY
}
# no credentials, 1 GB announced and never sent: the answer comes at once
s=$(announce - "/v1/files/$H?record=$REC" 1000000000); s=${s%%$'\n'*} # its first line (no head: a pipe closed early is a failure here)
check "an upload without credentials: 401 at once, the body not read" "401 fast not-read" "$s"
announce "$TOK_pk_fia" "/v1/files/$UNKNOWN?record=$REC" $((CAP + 1)) >st
check "a file over the node's cap: 413 at once" "413 fast" "$(head -1 st | cut -d' ' -f1-2)"
cp st "$T/body"
grep -q "over this node's cap on a file of $CAP bytes" "$T/body" && ok "... naming the cap" || bad "said: $(cat "$T/body")"
s=$(hput "$TOK_in_cert_in" "/v1/files/$H?record=$REC" logs.tar.age)
check "attaching to a record one did not write: 403" 403 "$s"
s=$(hput "$TOK_us_cisa" "/v1/files/$H?record=$REC" logs.tar.age); b1=$(jq -r .description "$T/body")
check "a non-party attaching to a case record: 404" 404 "$s"
s=$(hput "$TOK_us_cisa" "/v1/files/$H?record=mla-partial--00000000-0000-4000-8000-000000000000" logs.tar.age)
check "... as for a record that does not exist" 404 "$s"
s=$(hput "$TOK_pk_fia" "/v1/files/$H?record=$CASE" logs.tar.age)
check "attaching to a record of another party (the request): 403" 403 "$s"
s=$(curl -s --noproxy '*' -X PUT -H "Authorization: Token $TOK_pk_fia" -H 'Transfer-Encoding: chunked' \
  --data-binary @logs.tar.age -o "$T/body" -w '%{http_code}' "$URL/v1/files/$H?record=$REC")
check "a chunked upload (size not declared): 411" 411 "$s"

# ---- the hash is checked; nothing kept when it differs; sending again is safe ------------------
head -c 1000 /dev/urandom >other.age
s=$(hput "$TOK_pk_fia" "/v1/files/$H?record=$REC" other.age)
check "a body whose hash is not the one declared: 422" 422 "$s"
grep -q 'nothing kept' "$T/body" && ok "... nothing kept" || bad "said: $(cat "$T/body")"
check "... one file stored, no temporary left" "1 0" "$(stored) $(temps)"
run pk.fia case attach "$REC" logs.tar.age
check "a file sent again (comity case attach): accepted" 0 "$rc"
check "... still one file" 1 "$(stored)"

# ---- one pass: sealed and sent at once, the hash in the trailer, attached after ---------------
put1() { # put1 TOKEN CASE FILE TRAILER-HASH: a chunked upload for a case; prints "STATUS BODY"
  python3 - "$URL" "$1" "$2" "$3" "$4" <<'PY'
import socket, sys, urllib.parse
url, tok, case, path, h = sys.argv[1:]
u = urllib.parse.urlparse(url)
s = socket.create_connection((u.hostname, u.port), timeout=30)
s.sendall(("PUT /v1/files?case=%s HTTP/1.1\r\nHost: x\r\nAuthorization: Token %s\r\n"
           "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" % (case, tok)).encode())
try:  # a refusal on the headers closes the connection while we send
    with open(path, "rb") as f:
        while True:
            b = f.read(65536)
            if not b:
                break
            s.sendall(b"%x\r\n" % len(b) + b + b"\r\n")
    s.sendall(b"0\r\n" + (("Comity-Sha256: %s\r\n" % h).encode() if h != "none" else b"") + b"\r\n")
except (BrokenPipeError, ConnectionResetError):
    pass
a = b""
while True:
    try:
        d = s.recv(65536)
    except ConnectionResetError:
        break
    if not d:
        break
    a += d
head, _, body = a.partition(b"\r\n\r\n")
print(head.split(b" ")[1].decode(), body.decode(errors="replace").replace("\n", " "))
PY
}
head -c 200000 /dev/urandom >one.age
OH=$(sha256sum one.age | cut -d' ' -f1)
printf 'tiny' >tiny.age # refused on the headers: a body that cannot outrun the answer
read -r s b < <(put1 "$TOK_us_cisa" "$CASE" tiny.age "$OH")
read -r s2 b2 < <(put1 "$TOK_us_cisa" "${CASE%?}0" tiny.age "$OH")
check "a one-pass upload by a non-party: 404" 404 "$s"
check "... as for a case that does not exist" "$s2" "$s"
read -r s b < <(put1 "$TOK_pk_fia" "$CASE" one.age "$UNKNOWN")
check "a one-pass upload whose trailer names another hash: 422" 422 "$s"
read -r s b < <(put1 "$TOK_pk_fia" "$CASE" one.age none)
check "a one-pass upload without its hash: 422" 422 "$s"
check "... nothing kept" "1 0" "$(stored) $(temps)"
read -r s b < <(put1 "$TOK_pk_fia" "$CASE" one.age "$OH")
check "a one-pass upload by a party: 201" 201 "$s"
s=$(hget "$TOK_pk_fia" "/v1/files/$OH")
check "... invisible until attached, even to its uploader" 404 "$s"
run pk.fia case send "$CASE" mla-partial --set text='one pass' \
  --set "files=[{\"sha256\":\"$OH\",\"size\":200000,\"name\":\"one.bin\"}]"
OREC=$(cut -d' ' -f1 out)
run in.cert-in case attach "$OREC" "$OH"
check "attaching a file one did not send: exit 1" 1 "$rc"
grep -q "no file $OH uploaded by you" err && ok "... 'no file ... uploaded by you'" || bad "said: $(cat err)"
run pk.fia case attach "$OREC" "$OH"
check "its uploader attaches it to the record that names it" 0 "$rc"
s=$(hget "$TOK_in_cert_in" "/v1/files/$OH")
check "... now the other party fetches it" "200 $OH" "$s $(sha256sum "$T/body" | cut -d' ' -f1)"
big=$((CAP + 65536))
head -c "$big" /dev/zero >toobig.age
read -r s b < <(put1 "$TOK_pk_fia" "$CASE" toobig.age "$(sha256sum toobig.age | cut -d' ' -f1)")
check "a one-pass upload past the cap: 413" 413 "$s"
check "... nothing kept" "0" "$(temps)"
rm -f toobig.age

# ---- a clear case: the node reads the body, which must name the file ---------------------------
run in.cert-in case open mla-request --to pk.fia --tlp green "${MLA[@]}"
GCASE=$(cut -d' ' -f1 out)
head -c 5000 /dev/urandom >memo.pdf
run pk.fia case upload "$GCASE" mla-answer memo.pdf --set text='our answer' --keep memo.age
check "an upload to a clear case" 0 "$rc"
read -r GH _ GREC < <(tail -1 out)
run in.cert-in case show "$GCASE"
check "the body names the file by sha256, size and name" "$GH memo.pdf" "$(jq -r '.thread[1].body.files[0] | "\(.sha256) \(.name)"' out)"
s=$(hput "$TOK_pk_fia" "/v1/files/$(sha256sum other.age | cut -d' ' -f1)?record=$GREC" other.age)
check "attaching a file the record's body does not name: 422" 422 "$s"
grep -q 'does not reference' "$T/body" && ok "... saying so" || bad "said: $(cat "$T/body")"
run in.cert-in case send "$GCASE" evidence-close --set reason=done
run pk.fia case send "$GCASE" mla-answer --set text=x --set 'files=[{"sha256":"ab","size":1}]'
check "a files entry that is no SHA-256: refused before signing (exit 2)" 2 "$rc"
grep -q 'files\[0\].sha256' err && ok "... naming the field" || bad "said: $(cat err)"

# ---- kill -9 during a 256 MiB upload: nothing half-stored, a clean restart --------------------
head -c $((256 << 20)) /dev/urandom >big.age
BH=$(sha256sum big.age | cut -d' ' -f1); BS=$(stat -c %s big.age)
run pk.fia case send "$CASE" mla-partial --set text='the disk image' \
  --set "files=[{\"sha256\":\"$BH\",\"size\":$BS,\"name\":\"disk.img\"}]"
check "a record naming a 256 MiB file" 0 "$rc"
BREC=$(cut -d' ' -f1 out)
hwm0=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\).*/\1/p' /proc/$SERVE_PID/status)
( hput "$TOK_pk_fia" "/v1/files/$BH?record=$BREC" big.age --limit-rate 40M >/dev/null || true ) &
CURL_PID=$!
for _ in $(seq 100); do [ "$(temps)" -ge 1 ] && break; sleep 0.1; done
sleep 1.5
part=$(find "$D/files/tmp" -type f -printf '%s\n' | head -1)
[ "${part:-0}" -gt 0 ] && [ "${part:-0}" -lt "$BS" ] && ok "mid-upload: a partial temporary ($part bytes)" || bad "no partial temporary: ${part:-none}"
kill -9 "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true; SERVE_PID=""
wait "$CURL_PID" 2>/dev/null || true
[ ! -e "$D/files/${BH:0:2}/$BH" ] && ok "after kill -9: nothing stored under the hash" || bad "a file stands under the hash"
serve "$D" --insecure-http --max-file "$CAP"
write_conf
check "the node restarts; the temporaries are swept" 0 "$(temps)"
check "... the other files are intact" "$H" "$(sha256sum "$D/files/${H:0:2}/$H" | cut -d' ' -f1)"
hwm0=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\).*/\1/p' /proc/$SERVE_PID/status)
s=$(hput "$TOK_pk_fia" "/v1/files/$BH?record=$BREC" big.age)
check "the upload sent again after the crash: 201" 201 "$s"
s=$(curl -s --noproxy '*' -H "Authorization: Token $TOK_in_cert_in" -o big.got -w '%{http_code}' "$URL/v1/files/$BH")
check "... and fetched whole" "200 $BH" "$s $(sha256sum big.got | cut -d' ' -f1)"
hwm1=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\).*/\1/p' /proc/$SERVE_PID/status)
grow=$(( (hwm1 - hwm0) / 1024 ))
[ "$grow" -lt 32 ] && ok "the node's peak RSS grew by $grow MiB over a 256 MiB upload and fetch (< 32)" \
  || bad "the node's peak RSS grew by $grow MiB over a 256 MiB upload and fetch"

# ---- the command's memory is flat too: 4 MiB against 64 MiB ---------------------------------
peak() { # peak KIB of the last `run` under /usr/bin/time
  sed -n 's/^\s*Maximum resident set size (kbytes): //p' time.out
}
head -c $((4 << 20)) /dev/urandom >small.bin
head -c $((64 << 20)) /dev/urandom >large.bin
for f in small large; do
  rc=0; /usr/bin/time -v -o time.out "$C" case upload "$CASE" mla-partial $f.bin --set text=$f \
    --config conf/pk.fia.conf >out 2>err || rc=$?
  check "upload of $f.bin" 0 "$rc"; [ "$rc" = 0 ] || cat err
  eval "up_$f=$(peak)"
  fh=$(tail -1 out | cut -d' ' -f1)
  rc=0; /usr/bin/time -v -o time.out "$C" case fetch "$fh" --out $f.got --config conf/in.cert-in.conf >out 2>err || rc=$?
  check "fetch of $f.bin" "0 ok" "$rc $(cmp -s $f.got $f.bin && echo ok)"
  eval "down_$f=$(peak)"
done
d=$(( (up_large - up_small) / 1024 )); [ "$d" -lt 16 ] && ok "upload: peak RSS $((up_small/1024)) MiB for 4 MiB, $((up_large/1024)) MiB for 64 MiB" || bad "upload peak RSS grew by $d MiB (4 -> 64 MiB)"
d=$(( (down_large - down_small) / 1024 )); [ "$d" -lt 16 ] && ok "fetch: peak RSS $((down_small/1024)) MiB for 4 MiB, $((down_large/1024)) MiB for 64 MiB" || bad "fetch peak RSS grew by $d MiB (4 -> 64 MiB)"
ls /tmp/comity-upload-* 2>/dev/null | grep -q . && bad "a temporary age file was left in /tmp" || ok "no temporary age file left behind"

stop_node
finish
