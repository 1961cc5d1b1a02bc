"""One standard output for every function of the local stack, written a whole line at a time.

Lambda gives each invocation a process of its own; the local stack runs every function in threads
of one process, sharing ``sys.stdout``. ``print`` writes a line and its newline in two writes (the
Embedded Metric Format lines are printed), so another thread's log line could land between them
and two JSON records share a line. Here each thread's text is held until its newline, and whole
lines are written under one lock."""
from __future__ import annotations

import io
import threading
from typing import TextIO


class LineAtomicOutput(io.TextIOBase):
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._pending = threading.local()

    def write(self, text: str) -> int:
        held = getattr(self._pending, "text", "") + text
        lines, newline, rest = held.rpartition("\n")
        self._pending.text = rest
        if newline:
            with self._lock:
                self._stream.write(lines + "\n")
                self._stream.flush()
        return len(text)

    def flush(self) -> None:  # a partial line stays held until its newline
        with self._lock:
            self._stream.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._stream.encoding


def install() -> None:
    """Before any function is loaded (their loggers keep the stream they were made with)."""
    import sys

    if not isinstance(sys.stdout, LineAtomicOutput):
        sys.stdout = LineAtomicOutput(sys.stdout)
