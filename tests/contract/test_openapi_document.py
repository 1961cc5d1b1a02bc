"""docs/openapi.json is the document GET /openapi.json serves: a contract change shows in review."""
import subprocess
import sys

from tests.conftest import ROOT


def test_the_committed_document_is_the_served_one():
    done = subprocess.run([sys.executable, "scripts/openapi.py", "--check"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_the_check_fails_on_a_stale_document(tmp_path):
    """The check is not vacuous: a document that differs by one byte is reported stale."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import openapi as script
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    stale = tmp_path / "openapi.json"
    stale.write_text(script.rendered().replace('"3.1.0"', '"3.0.0"', 1))
    script.COMMITTED, saved = stale, script.COMMITTED
    try:
        assert script.main(["--check"]) == 1
    finally:
        script.COMMITTED = saved
