"""The quick SHACL check in front of pyshacl may only say "conforms" where pyshacl agrees."""
import subprocess
import sys

from licn import paths


def test_quick_check_never_passes_a_graph_pyshacl_rejects():
    """Damaged copies of the real graph (fixed seed) judged by both; bench/soundness.py does more."""
    run = subprocess.run([sys.executable, "-m", "bench.soundness", "12", "7"], cwd=paths.ROOT,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 passed wrongly" in run.stdout
