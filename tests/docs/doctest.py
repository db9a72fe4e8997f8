#!/usr/bin/env python3
"""Runs the console examples of README.md and the manual pages, and
compares what they print with what the documents say.

The format, in the manner of cram and Python's doctest:

  Where  In Markdown, a fenced block whose info string is "console".
         In a manual page, a ".Bd -literal" (or ".EX", ".nf") block
         holding at least one line that starts with "$ ".
  Lines  "$ CMD" is a command, run by sh. "> MORE" continues it on the
         next line (a here-document, say), and so does a line after one
         that ends with a backslash. Every other line, up to the next
         "$ ", is what CMD prints: standard output and standard error
         together, in order.
  Status "[N]" alone on the last line of a command's output is its exit
         status; with none, the command must exit 0.
  Slack  "..." in a line matches any text within that line; a line that
         is only "..." matches any number of lines, none included. Runs
         of blanks count as one blank, and trailing blanks not at all.
  Skip   A block that must not run says why in the line just above it:
         "<!-- doctest: skip REASON -->" in Markdown, or
         '.\\" doctest: skip REASON' in a manual page. "pending" in
         place of "skip" marks behaviour announced but not yet built:
         such a block runs only with --pending.

All the blocks of one file run in order in one shell, as a tour does,
so a block sees the files and directory the ones above it left. The
shell runs in a sandbox made afresh for each file: private mount,
network (no interface but a down loopback) and PID namespaces, as the
user alice (HOME=/home/alice, an empty tmpfs, and XDG directories under
it; a user bob exists too, but nothing runs as him), with this build's
approve-exec as /usr/local/bin/approve-exec and the shipped policies
under /usr/local/share/approve-exec, as install.sh puts them, and empty
/tmp, /etc/approve-exec and /var/lib/approve-exec. Output goes to a
terminal, as the reader's would, with PAGER=cat. A command has 60
seconds. It needs root, unshare(1) and setpriv(1).

Prints TAP: one test per block, then how many blocks ran and were
skipped, and why.
"""

import os
import pty
import re
import select
import signal
import subprocess
import sys
import termios
import time

SALT = "DOCTEST-7f3a1c"
COMMAND_SECONDS = 60
USER, UID = "alice", 64201
HOME = "/home/" + USER


class Block:
    def __init__(self, path, line, lines, skip=None, pending=None):
        self.path = path
        self.line = line
        self.lines = lines
        self.skip = skip
        self.pending = pending
        self.commands = []      # (command text, expected lines, status)


class FormatError(Exception):
    pass


def marker(line):
    """'skip'/'pending' and the reason, from a marker line, or None."""
    m = re.match(r'^\s*(?:<!--|\.\\")\s*doctest:\s*(skip|pending)\b\s*(.*?)'
                 r'\s*(?:-->)?\s*$', line)
    if not m:
        return None
    if not m.group(2):
        raise FormatError("a doctest %s marker must say why" % m.group(1))
    return m.group(1), m.group(2)


def markdown_blocks(path, text):
    lines = text.split("\n")
    blocks = []
    i = 0
    while i < len(lines):
        m = re.match(r"^(```+)\s*console\s*$", lines[i])
        if not m:
            i += 1
            continue
        start = i
        fence = m.group(1)
        i += 1
        body = []
        while i < len(lines) and lines[i].strip() != fence:
            body.append(lines[i])
            i += 1
        if i == len(lines):
            raise FormatError("%s:%d: console block not closed" %
                              (path, start + 1))
        i += 1
        blocks.append(make_block(path, start + 1, body,
                                 lines[start - 1] if start > 0 else ""))
    return blocks


ROFF_ESCAPES = [("\\&", ""), ("\\-", "-"), ("\\(aq", "'"), ("\\(dq", '"'),
                ("\\(ti", "~"), ("\\(ha", "^"), ("\\(ga", "`"),
                ("\\(en", "\u2013"), ("\\(em", "\u2014"), ("\\e", "\\")]


def unroff(line):
    out = []
    i = 0
    while i < len(line):
        for esc, repl in ROFF_ESCAPES:
            if line.startswith(esc, i):
                out.append(repl)
                i += len(esc)
                break
        else:
            out.append(line[i])
            i += 1
    return "".join(out)


def man_blocks(path, text):
    lines = text.split("\n")
    blocks = []
    i = 0
    while i < len(lines):
        m = re.match(r"^\.(Bd\s+-literal|EX|nf)\b", lines[i])
        if not m:
            i += 1
            continue
        end = {"E": ".EE", "n": ".fi"}.get(m.group(1)[0], ".Ed")
        start = i
        i += 1
        body = []
        while i < len(lines) and not lines[i].startswith(end):
            if not lines[i].startswith('.\\"'):
                body.append(unroff(lines[i]))
            i += 1
        i += 1
        if any(b.startswith("$ ") for b in body):
            blocks.append(make_block(path, start + 1, body,
                                     lines[start - 1] if start > 0 else ""))
    return blocks


def make_block(path, line, body, before):
    mk = marker(before)
    block = Block(path, line, body,
                  skip=mk[1] if mk and mk[0] == "skip" else None,
                  pending=mk[1] if mk and mk[0] == "pending" else None)
    if block.skip:
        return block
    cmd = None
    cont = False
    for n, text in enumerate(body):
        if cont:
            cmd[0] += "\n" + text
            cont = text.endswith("\\")
        elif text.startswith("$ "):
            cmd = [text[2:], [], None]
            block.commands.append(cmd)
            cont = text.endswith("\\")
        elif cmd is not None and (text.startswith("> ") or text == ">"):
            cmd[0] += "\n" + text[2:]
            cont = text.endswith("\\")
        elif cmd is None:
            if text.strip():
                raise FormatError("%s:%d: a console block starts with "
                                  "'$ COMMAND' (or is marked skip): %r" %
                                  (path, line + 1 + n, text))
        elif cmd[2] is not None:
            raise FormatError("%s:%d: output after the exit status [%d]" %
                              (path, line + 1 + n, cmd[2]))
        elif re.match(r"^\[\d+\]$", text):
            cmd[2] = int(text[1:-1])
        else:
            cmd[1].append(text)
    for cmd in block.commands:
        while cmd[1] and not cmd[1][-1].strip():
            cmd[1].pop()
        if cmd[2] is None:
            cmd[2] = 0
    return block


def squeeze(line):
    return re.sub(r"[ \t]+", " ", line).rstrip()


def line_matches(want, got):
    if "..." not in want:
        return want == got
    parts = [re.escape(p) for p in want.split("...")]
    return re.fullmatch(".*".join(parts), got, re.S) is not None


def matches(want, got):
    """Whether the expected lines match the actual ones, '...' lines
    taking any number of lines."""
    want = [squeeze(w) for w in want]
    got = [squeeze(g) for g in got]
    memo = {}

    def m(i, j):
        if (i, j) in memo:
            return memo[i, j]
        if i == len(want):
            r = j == len(got)
        elif want[i] == "...":
            r = m(i + 1, j) or (j < len(got) and m(i, j + 1))
        else:
            r = j < len(got) and line_matches(want[i], got[j]) and \
                m(i + 1, j + 1)
        memo[i, j] = r
        return r
    return m(0, 0)


SETUP = r"""
set -e
mount -t tmpfs -o mode=755 docs /usr/local/bin
install -m 755 "$AE_BIN" /usr/local/bin/approve-exec
# the module beside it, as make install puts it (nothing else of
# /usr/local/lib is for the examples)
mount -t tmpfs -o mode=755 docs /usr/local/lib
mkdir -p /usr/local/lib/approve-exec
install -m 644 "$(dirname "$(readlink -f "$AE_BIN")")"/../lib/approve-exec/ext.so /usr/local/lib/approve-exec/
mount -t tmpfs -o mode=755 docs /usr/local/share
mkdir -p /usr/local/share/approve-exec/policies
install -m 644 "$AE_TOP"/policies/*.yaml /usr/local/share/approve-exec/policies/
mount -t tmpfs -o mode=1777 docs /tmp
# /etc as an overlay, rather than files bound over passwd and group: a
# useradd elsewhere renames a new passwd into place, which detaches those
mkdir -m 700 /tmp/.etc && mkdir -m 755 /tmp/.etc/up /tmp/.etc/work
mount -t overlay -o lowerdir=/etc,upperdir=/tmp/.etc/up,workdir=/tmp/.etc/work docs /etc
for f in passwd group; do
	grep -v "^\($U\|bob\):" /etc/$f >/tmp/.etc/$f
	cat /tmp/.etc/$f >/etc/$f
done
echo "$U:x:$UID_:$UID_:$U:/home/$U:/bin/sh" >>/etc/passwd
echo "$U:x:$UID_:" >>/etc/group
echo "bob:x:$((UID_ + 1)):$((UID_ + 1)):bob:/home/bob:/bin/sh" >>/etc/passwd
echo "bob:x:$((UID_ + 1)):" >>/etc/group
for d in /etc/approve-exec /var/lib/approve-exec; do
	if [ -d "$d" ]; then mount -t tmpfs -o mode=755 docs "$d"; fi
done
mount -t tmpfs -o mode=755 docs /home
mkdir -m 755 /home/$U
chown $UID_:$UID_ /home/$U
cd /home/$U
exec setpriv --reuid=$UID_ --regid=$UID_ --clear-groups -- env -i \
	HOME=/home/$U USER=$U LOGNAME=$U SHELL=/bin/sh LANG=C.UTF-8 TZ=UTC \
	PATH=/usr/local/bin:/usr/bin:/bin PAGER=cat GIT_PAGER=cat \
	XDG_CONFIG_HOME=/home/$U/.config XDG_DATA_HOME=/home/$U/.local/share \
	XDG_CACHE_HOME=/home/$U/.cache XDG_STATE_HOME=/home/$U/.local/state \
	sh
"""


class Session:
    """One sandboxed shell, fed commands one at a time."""

    def __init__(self, top, binary):
        env = dict(os.environ, AE_BIN=binary, AE_TOP=top, U=USER,
                   UID_=str(UID))
        # Output goes to a terminal, as the reader's would: stdout is
        # line-buffered, so it interleaves with stderr as shown.
        self.master, slave = pty.openpty()
        attr = termios.tcgetattr(slave)
        attr[1] &= ~termios.ONLCR
        termios.tcsetattr(slave, termios.TCSANOW, attr)
        self.proc = subprocess.Popen(
            ["unshare", "--mount", "--net", "--pid", "--fork",
             "--kill-child", "--mount-proc", "--propagation", "private",
             "sh", "-c", SETUP],
            stdin=subprocess.PIPE, stdout=slave, stderr=slave, env=env,
            start_new_session=True)
        os.close(slave)
        self.buf = b""
        self.count = 0

    def run(self, cmd):
        """(output lines, status) of cmd, or raises TimeoutError."""
        self.count += 1
        end = "%s %d" % (SALT, self.count)
        # $? after the marker is the command's, as in a terminal
        script = ("{ %s\n} </dev/null 2>&1\n_rc=$?\n"
                  "printf '\\n%s %%s\\n' $_rc\n(exit $_rc)\n") % (cmd, end)
        self.proc.stdin.write(script.encode())
        self.proc.stdin.flush()
        pat = re.compile(rb"\n" + end.encode() + rb" (\d+)\n")
        deadline = time.monotonic() + COMMAND_SECONDS
        while True:
            m = pat.search(self.buf)
            if m:
                out = self.buf[:m.start()]
                self.buf = self.buf[m.end():]
                text = out.decode("utf-8", "replace")
                if text.endswith("\n"):
                    text = text[:-1]
                return (text.split("\n") if text else []), int(m.group(1))
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(self.buf.decode("utf-8", "replace"))
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise EOFError(self.buf.decode("utf-8", "replace"))
                self.buf += chunk

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        os.close(self.master)


def check_block(session, block):
    """None when every command printed and exited as shown, else why
    not, as lines."""
    for cmd, want, status in block.commands:
        try:
            got, rc = session.run(cmd)
        except (TimeoutError, EOFError) as e:
            what = "took over %ds" % COMMAND_SECONDS \
                if isinstance(e, TimeoutError) else "ended the shell"
            text = str(e)
            if len(text) > 2000:
                text = "..." + text[-2000:]
            return ["$ " + cmd, "%s; it printed:" % what] + \
                text.replace("\r", "\n").split("\n")
        if rc == status and matches(want, got):
            continue
        lines = ["$ " + cmd.replace("\n", "\n> ")]
        if rc != status:
            lines.append("exit status %d, the document says %d" %
                         (rc, status))
        if not matches(want, got):
            lines.append("the document says:")
            lines += ["  " + w for w in want]
            lines.append("it printed:")
            lines += ["  " + g for g in got]
        return lines
    return None


def main(argv):
    pending = "--pending" in argv
    args = [a for a in argv if a != "--pending"]
    top = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    binary = os.path.join(top, os.environ.get("AE_BUILD", "build/default"),
                          "approve-exec")
    files = args or ["README.md"] + sorted(
        os.path.join("man", f) for f in os.listdir(os.path.join(top, "man"))
        if re.search(r"\.[1-8]$", f))
    blocks_by_file = []
    try:
        for f in files:
            with open(os.path.join(top, f), encoding="utf-8") as fh:
                text = fh.read()
            parse = markdown_blocks if f.endswith(".md") else man_blocks
            blocks_by_file.append((f, parse(f, text)))
    except FormatError as e:
        print("not ok 1 - the examples can be read: %s" % e)
        print("1..1")
        return 1
    can_run = os.geteuid() == 0 and os.access(binary, os.X_OK) and \
        subprocess.call(["unshare", "--mount", "--net", "--pid", "--fork",
                         "true"], stderr=subprocess.DEVNULL) == 0
    n = ran = failed = 0
    skipped = {}
    for f, blocks in blocks_by_file:
        session = None
        lost = None
        for b in blocks:
            n += 1
            name = "%s:%d" % (f, b.line)
            why = b.skip or (None if pending else b.pending and
                             "pending: " + b.pending)
            if not why and not can_run:
                why = "needs root, namespaces (unshare) and %s" % binary
            if why:
                skipped[why] = skipped.get(why, 0) + 1
                print("ok %d - %s # SKIP %s" % (n, name, why))
                continue
            if lost:
                # what it would have seen is gone with the sandbox
                failed += 1
                print("not ok %d - %s # not run: %s" % (n, name, lost))
                continue
            if session is None:
                session = Session(top, binary)
            diff = check_block(session, b)
            ran += 1
            if diff is None:
                print("ok %d - %s (%d commands)" % (n, name,
                                                    len(b.commands)))
                continue
            failed += 1
            print("not ok %d - %s" % (n, name))
            for d in diff:
                for part in d.split("\n"):
                    print("#   " + part)
            if diff[1].startswith(("took over", "ended the shell")):
                lost = "the block at %s hung or ended the shell" % name
        if session:
            session.close()
    print("# docs examples: %d blocks, %d ran, %d failed, %d skipped" %
          (n, ran, failed, sum(skipped.values())))
    for why, count in sorted(skipped.items()):
        print("#   skipped %d: %s" % (count, why))
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
