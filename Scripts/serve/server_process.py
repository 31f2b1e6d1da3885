"""Starts `fable serve` on a free port for the serve scripts and stops it again.

Used by openai_client_check.py and Scripts/bench/serve_bench.py; not a dependency of
the Swift product or of `swift test`.
"""
import re
import subprocess
import sys
import time


class FableServer:
    """`fable serve --port 0 ...` as a context manager; `.url` is the base URL it printed."""

    def __init__(self, fable, checkpoint, tokenizer=None, extra=()):
        self.command = [fable, "serve", "--checkpoint", checkpoint, "--port", "0", *extra]
        if tokenizer:
            self.command += ["--tokenizer", tokenizer]
        self.process = None
        self.url = None

    def __enter__(self):
        self.process = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=sys.stderr, text=True)
        deadline = time.time() + 120
        for line in self.process.stdout:
            sys.stderr.write(line)
            match = re.search(r"listening on (http://\S+)", line)
            if match:
                self.url = match.group(1).rstrip("/")
                return self
            if time.time() > deadline:
                break
        self.__exit__(None, None, None)
        raise RuntimeError("fable serve did not report a URL: " + " ".join(self.command))

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.terminate()    # SIGTERM: the graceful shutdown path
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return False
