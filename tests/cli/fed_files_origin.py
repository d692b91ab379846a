# fed_files_origin.py PORT UPSTREAM MODEFILE [PROBE]: a relay in front of
# a real node for tests/cli/fed_files.sh (not a test itself: ctest runs
# only *.sh).
#
# Forwards every request to UPSTREAM and its answer back, login included.
# Before each request it reads the mode from MODEFILE:
#   pass    changes nothing;
#   tamper  flips one bit of the middle byte of every sealed file it relays
#           (GET /federation/files/HASH): an origin serving wrong bytes;
#   slow    relays half of a sealed file's bytes, then holds the connection
#           open without sending more (for 60 s): a fetch in progress;
#   trickle relays a sealed file's bytes 16 KiB every 0.25 s, and closes
#           the connection once the mode is another: a slow origin.
# The Range header of a request and the Content-Range of its answer are
# relayed; each "Range: ..." asked for a file is appended to MODEFILE.ranges,
# and the bytes of files sent, as "MODE N" lines, to MODEFILE.bytes.
# With PROBE (a file path): each time it relays a file listing
# (/federation/files/?...) and PROBE.hash exists, it also asks UPSTREAM,
# with the caller's own session cookie, for that hash and for a hash no
# node holds, and writes "STATUS-OF-HASH STATUS-OF-UNKNOWN same|differ"
# (the two bodies compared with the hashes blanked) to PROBE.
import http.server, sys, time, urllib.request, urllib.error

PORT, UP, MODEFILE = int(sys.argv[1]), sys.argv[2], sys.argv[3]
PROBE = sys.argv[4] if len(sys.argv) > 4 else None
UNKNOWN = "0" * 64


def mode():
    try:
        with open(MODEFILE) as f:
            return f.read().strip()
    except OSError:
        return "pass"


def fetch(path, method, data, headers):
    req = urllib.request.Request(UP + path, data=data, method=method)
    for k, v in headers.items():
        req.add_header(k, v)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        r = opener.open(req, timeout=30)
        return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def count(m, n):
    with open(MODEFILE + ".bytes", "a") as f:
        f.write("%s %d\n" % (m, n))


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def relay(self):
        n = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(n) if n else None
        hdrs = {k: self.headers[k] for k in ("Cookie", "Content-Type", "Accept", "X-Comity-UI",
                                             "Authorization", "Range") if self.headers.get(k)}
        status, rh, body = fetch(self.path, self.command, data, hdrs)
        m = mode()
        is_file = self.path.startswith("/federation/files/") and len(self.path) == 18 + 64
        if is_file and self.headers.get("Range"):
            with open(MODEFILE + ".ranges", "a") as f:
                f.write(self.headers["Range"] + "\n")
        if PROBE and self.path.startswith("/federation/files/?"):
            try:
                h = open(PROBE + ".hash").read().strip()
                s1, _, b1 = fetch("/federation/files/" + h, "GET", None, hdrs)
                s2, _, b2 = fetch("/federation/files/" + UNKNOWN, "GET", None, hdrs)
                same = b1.replace(h.encode(), b"H") == b2.replace(UNKNOWN.encode(), b"H")
                with open(PROBE, "w") as f:
                    f.write("%d %d %s\n" % (s1, s2, "same" if same else "differ"))
            except OSError:
                pass
        sent = is_file and status in (200, 206)
        if sent and m == "tamper" and body:
            i = len(body) // 2
            body = body[:i] + bytes([body[i] ^ 1]) + body[i + 1:]
        self.send_response(status)
        for k in ("Content-Type", "Set-Cookie", "Content-Range", "Accept-Ranges"):
            for v in rh.get_all(k) or []:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if sent and m == "slow":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            count(m, len(body) // 2)
            time.sleep(60)
            return
        if sent and m == "trickle":
            for i in range(0, len(body), 16 << 10):
                if mode() != "trickle":
                    self.close_connection = True
                    return
                try:
                    self.wfile.write(body[i:i + (16 << 10)])
                    self.wfile.flush()
                except OSError:
                    return
                count(m, len(body[i:i + (16 << 10)]))
                time.sleep(0.25)
            return
        self.wfile.write(body)
        if sent:
            count(m, len(body))

    do_GET = do_POST = relay

    def log_message(self, *a):
        sys.stderr.write("relay: " + (a[0] % a[1:]) + "\n")


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), H).serve_forever()
