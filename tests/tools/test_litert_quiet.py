"""quiet_stderr under threads: overlapping users never leave descriptor 2 on /dev/null."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap


def test_overlapping_quiet_sections_restore_stderr():
    # In a child process whose stderr is a real pipe (pytest captures ours).
    code = textwrap.dedent("""
        import os, sys, threading, time
        from pertouch.tools.litert import quiet_stderr
        a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
        def a():
            with quiet_stderr():
                a_in.set(); b_in.wait(); os.write(2, b"hidden-a\\n")
            a_out.set()
        def b():
            a_in.wait()
            with quiet_stderr():
                b_in.set(); a_out.wait(); os.write(2, b"hidden-b\\n")
        ts = [threading.Thread(target=a), threading.Thread(target=b)]
        [t.start() for t in ts]; [t.join() for t in ts]
        os.write(2, b"visible-after\\n")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60,
                         env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert out.returncode == 0, out.stderr
    err = out.stderr.decode()
    assert "visible-after" in err, "stderr was left on /dev/null after overlapping quiet sections"
    assert "hidden-a" not in err and "hidden-b" not in err
