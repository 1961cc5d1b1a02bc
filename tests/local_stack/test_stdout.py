"""The local stack's shared standard output: lines printed at once from many threads (as the
functions' log and Embedded Metric Format lines are) each come out whole, one record a line."""
from __future__ import annotations

import io
import json
import threading

from outbound_local.stdout import LineAtomicOutput


def test_lines_printed_from_many_threads_come_out_whole():
    target = io.StringIO()
    out = LineAtomicOutput(target)

    def emit(worker: int) -> None:
        for i in range(300):
            print(json.dumps({"worker": worker, "i": i, "pad": "x" * (i % 97)}), file=out)  # two writes each

    threads = [threading.Thread(target=emit, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = target.getvalue().splitlines()
    assert len(lines) == 8 * 300
    records = [json.loads(line) for line in lines]  # every line is one record
    assert sorted((r["worker"], r["i"]) for r in records) == [(w, i) for w in range(8) for i in range(300)]


def test_a_partial_line_waits_for_its_newline():
    target = io.StringIO()
    out = LineAtomicOutput(target)
    out.write('{"a": ')
    out.flush()
    assert target.getvalue() == ""
    out.write('1}\n{"b"')
    assert target.getvalue() == '{"a": 1}\n'
