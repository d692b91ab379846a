#!/usr/bin/env python3
"""smtp_sink.py: a tiny SMTP server for the alert tests (not a relay).

    smtp_sink.py DIR [--stall]

Listens on 127.0.0.1 on a free port, writes the port to DIR/port, and
stores each message it accepts as DIR/mail-N.eml: the envelope first
("MAIL FROM:<...>" and "RCPT TO:<...>" lines, then a blank line), then the
message as received (dot-unstuffed).  With --stall it accepts connections
and never answers (a relay that hangs).  Speaks just enough of RFC 5321
for libcurl: greeting, EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT.
Runs until killed.  Standard library only.
"""
import os
import socket
import socketserver
import sys
import threading

OUT = sys.argv[1]
STALL = "--stall" in sys.argv[2:]
lock = threading.Lock()
# numbered on from what an earlier sink left in DIR (a restarted relay)
count = [len([n for n in os.listdir(OUT) if n.startswith("mail-") and n.endswith(".eml")])]


class Handler(socketserver.StreamRequestHandler):
    def send(self, line):
        self.wfile.write((line + "\r\n").encode())
        self.wfile.flush()

    def handle(self):
        if STALL:
            threading.Event().wait(3600)
            return
        self.send("220 sink ESMTP")
        env, rcpt = None, []
        while True:
            raw = self.rfile.readline(4096)
            if not raw:
                return
            line = raw.decode("ascii", "replace").rstrip("\r\n")
            verb = line[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.send("250 sink")
            elif verb == "MAIL":
                env, rcpt = line, []
                self.send("250 ok")
            elif verb == "RCPT":
                rcpt.append(line)
                self.send("250 ok")
            elif verb == "DATA":
                self.send("354 go on")
                data = []
                while True:
                    d = self.rfile.readline(65536)
                    if not d or d in (b".\r\n", b".\n"):
                        break
                    data.append(d[1:] if d.startswith(b"..") else d)
                with lock:
                    count[0] += 1
                    name = os.path.join(OUT, "mail-%d.eml" % count[0])
                with open(name + ".tmp", "wb") as f:
                    f.write((env + "\n" + "\n".join(rcpt) + "\n\n").encode())
                    f.write(b"".join(data))
                os.rename(name + ".tmp", name)
                self.send("250 stored")
            elif verb == "QUIT":
                self.send("221 bye")
                return
            elif verb in ("RSET", "NOOP"):
                self.send("250 ok")
            else:
                self.send("502 not here")


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


srv = Server(("127.0.0.1", int(os.environ.get("SINK_PORT", "0"))), Handler)
with open(os.path.join(OUT, "port.tmp"), "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(os.path.join(OUT, "port.tmp"), os.path.join(OUT, "port"))
srv.serve_forever()
