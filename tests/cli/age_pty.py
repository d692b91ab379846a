#!/usr/bin/env python3
"""age_pty.py PASSFILE CMD [ARGS...]: runs CMD on a new pseudo-terminal and
answers each passphrase prompt it writes there with the first line of
PASSFILE (then, for a confirmation, the second line if there is one, else
the first again).  Debian's age reads a passphrase from the terminal only
(no option or environment variable), and so does `comity key ... --passphrase`;
the tests drive both through this.  Exits with CMD's status; what CMD
writes to the terminal (prompts and messages) goes to stderr."""
import os, pty, sys, time

lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
answers = [lines[0], lines[1] if len(lines) > 1 and lines[1] else lines[0]]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
seen, asked, deadline = b"", 0, time.time() + 120
while True:
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    sys.stderr.buffer.write(data)
    seen += data
    # one answer per prompt: a prompt ends with ": " after the word passphrase
    while asked < 2 and seen.lower().count(b"passphrase") > asked and seen.rstrip(b" ").endswith(b":"):
        os.write(fd, answers[asked].encode() + b"\n")
        asked += 1
    if time.time() > deadline:
        os.kill(pid, 9)
        break
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
