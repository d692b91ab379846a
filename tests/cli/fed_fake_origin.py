# fed_fake_origin.py PORT UPSTREAM MODE: a man in the middle for
# tests/cli/federation.sh (not a test itself: ctest runs only *.sh).
#
# Forwards every request to UPSTREAM (a real node) and its answer back,
# login included; in MODE "tamper" it changes one hash of the first
# receipt of every federation page it relays (a base64 digit swapped, so
# that the text stays well formed and only the proof is wrong); in MODE
# "pass" it changes nothing; in MODE "old" it answers 404 to GET
# /federation/cosigned/ as a release from before that endpoint does.
import http.server, json, sys, urllib.request, urllib.error

PORT, UP, MODE = int(sys.argv[1]), sys.argv[2], sys.argv[3]


def tamper(body):
    page = json.loads(body)
    objs = page.get("objects") or []
    if objs:
        lines = objs[0]["x_comity_receipt"].split("\n")
        i = 2 if lines[2] else 1  # a proof hash, else the index line
        c = lines[i][-1] if i == 1 else lines[i][0]
        if i == 1:
            lines[i] = lines[i][:-1] + ("1" if c != "1" else "2")
        else:
            lines[i] = ("B" if c != "B" else "C") + lines[i][1:]
        objs[0]["x_comity_receipt"] = "\n".join(lines)
    return json.dumps(page).encode()


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def relay(self):
        if MODE == "old" and self.path.startswith("/federation/cosigned"):
            body = b'{"title":"not found"}'
            self.send_response(404)
            self.send_header("Content-Type", "application/taxii+json;version=2.1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        n = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(n) if n else None
        req = urllib.request.Request(UP + self.path, data=data, method=self.command)
        for k in ("Cookie", "Content-Type", "Accept", "X-Comity-UI", "Authorization"):
            if self.headers.get(k):
                req.add_header(k, self.headers[k])
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            r = opener.open(req, timeout=30)
            status, hdrs, body = r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            status, hdrs, body = e.code, e.headers, e.read()
        if MODE == "tamper" and status == 200 and "/objects/" in self.path:
            body = tamper(body)
        self.send_response(status)
        for k in ("Content-Type", "Set-Cookie"):
            for v in hdrs.get_all(k) or []:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = relay

    def log_message(self, *a):
        sys.stderr.write("fake: " + (a[0] % a[1:]) + "\n")


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), H).serve_forever()
