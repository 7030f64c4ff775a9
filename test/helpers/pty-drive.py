"""Run a command on a real pseudo-terminal and type into it, as a person would (see pty.ts).

Input, one JSON object on stdin:
  {"argv": [...], "env": {...}, "cwd": "...", "timeout": seconds,
   "steps": [{"expect": "text", "send": "bytes"} | {"expect": "text", "signal": 15} | {"expect": "text"}, ...]}
Each step waits until `expect` appears in the output after the previous step's match, then types
`send`, or sends the signal to the child, or does nothing (a check of the order of the output). Then it reads until the child closes the terminal.

Output, one JSON object on stdout: the transcript (everything the terminal showed, latin-1), the
exit code (or the signal), whether a step timed out, and the terminal's local modes after the
child exited (a program that dies with echo off leaves ECHO cleared).
"""
import json
import os
import pty
import select
import signal
import sys
import termios
import time


def main():
    spec = json.load(sys.stdin)
    pid, master = pty.fork()
    if pid == 0:
        try:
            os.chdir(spec["cwd"])
            os.execve(spec["argv"][0], spec["argv"], spec["env"])
        finally:
            os._exit(127)
    deadline = time.monotonic() + spec.get("timeout", 30)
    out = bytearray()
    closed = False
    timed_out = None

    def read_some(until):
        nonlocal closed
        wait = max(0.0, until - time.monotonic())
        ready, _, _ = select.select([master], [], [], wait)
        if not ready:
            return False
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: every slave descriptor is closed
            chunk = b""
        if not chunk:
            closed = True
            return False
        out.extend(chunk)
        return True

    seen = 0
    for i, step in enumerate(spec["steps"]):
        want = step["expect"].encode("latin-1")
        while not closed and out.find(want, seen) < 0 and time.monotonic() < deadline:
            read_some(deadline)
        at = out.find(want, seen)
        if at < 0:
            timed_out = i
            break
        seen = at + len(want)
        time.sleep(step.get("delay", 0.05))  # let the program finish writing the prompt
        if "signal" in step:
            os.kill(pid, step["signal"])
        elif "send" in step:
            os.write(master, step["send"].encode("latin-1"))
    if timed_out is not None:
        os.kill(pid, signal.SIGKILL)
    while not closed and time.monotonic() < deadline:
        read_some(deadline)
    if not closed:
        os.kill(pid, signal.SIGKILL)
        timed_out = timed_out if timed_out is not None else len(spec["steps"])
    _, status = os.waitpid(pid, 0)
    lflag = termios.tcgetattr(master)[3]
    os.close(master)
    json.dump(
        {
            "transcript": out.decode("latin-1"),
            "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            "timedOutAtStep": timed_out,
            "echo": bool(lflag & termios.ECHO),
            "canonical": bool(lflag & termios.ICANON),
        },
        sys.stdout,
    )


main()
