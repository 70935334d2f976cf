"""Every benchmark still runs after code moves: each benchmarks/*.py main at a tiny size finishes and
prints its figures (not a timing test: the figures are only checked to be there)."""
from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

from tests.browser import CHROMIUM

ROOT = Path(__file__).resolve().parents[1]
TINY = {"bench_consolidate.py": ["--units", "3", "--rows", "2", "--no-naive"],
        "bench_dashboard.py": ["--repeat", "1"],
        "bench_serve.py": ["--units", "3", "--rows", "2", "--every", "0.01"]}


def load(path: Path):
    """The benchmark as a module (registered, so that its worker processes can unpickle its functions)."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def test_every_benchmark_has_a_tiny_size_here():
    assert sorted(TINY) == sorted(p.name for p in (ROOT / "benchmarks").glob("*.py"))


def test_bench_consolidate_runs_at_a_tiny_size_and_prints_every_step_and_phase(tmp_path, monkeypatch, capsys):
    bench = load(ROOT / "benchmarks" / "bench_consolidate.py")
    monkeypatch.setattr(sys, "argv", ["bench_consolidate.py", *TINY["bench_consolidate.py"], "--out", str(tmp_path)])
    bench.main()
    out = capsys.readouterr().out
    for step in ("(b) floor", "(c) ours", "(d) rerun", "(e) city demo CLI (wall)"):
        assert re.search(rf"\| {re.escape(step)} \| \d+\.\d\d \|", out), (step, out)
    assert re.search(r"\(c\)/\(b\) = \d+\.\d\d", out), out
    spent = re.search(r"where \(c\) spends its time: (.*) \(sum", out).group(1)
    for label, _, _ in bench.PHASES:             # every phase was called: a moved function is still timed
        assert re.search(rf"{re.escape(label)} \d+\.\d\ds", spent), (label, spent)
    city = out.split("`python -m toolkit demo`")[1]
    for label, _, _ in bench.DEMO_PHASES:
        assert re.search(rf"{re.escape(label)} \d+\.\d\ds", city), (label, city)


def test_a_benchmark_phase_that_names_a_moved_function_stops_saying_which():
    bench = load(ROOT / "benchmarks" / "bench_consolidate.py")
    with pytest.raises(SystemExit, match="toolkit.consolidate.write_receipts no longer exists"):
        bench._instrument([("回执", "toolkit.consolidate", "write_receipts")])


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed")
def test_bench_dashboard_runs_once_and_prints_its_figures(monkeypatch, capsys):
    bench = load(ROOT / "benchmarks" / "bench_dashboard.py")
    monkeypatch.setattr(sys, "argv", ["bench_dashboard.py", *TINY["bench_dashboard.py"]])
    bench.main()
    out = capsys.readouterr().out
    assert re.search(r"看板\.html:[\d,]+ 字节", out) and re.search(r"中位数 \d+\.\d ms", out), out
    assert re.search(r"Chromium 打开看板.*:\d+ ms", out), out


def test_bench_serve_runs_at_a_tiny_size_and_reports_the_status_answers(tmp_path, monkeypatch, capsys):
    bench = load(ROOT / "benchmarks" / "bench_serve.py")
    monkeypatch.setattr(sys, "argv", ["bench_serve.py", *TINY["bench_serve.py"], "--out", str(tmp_path)])
    bench.main()                                  # its exit code is the 100 ms verdict: a timing, not checked here
    report = json.loads(capsys.readouterr().out)
    assert report["consolidate_ok"] is True and report["units"] == 3 and report["files"] > 0, report
    assert report["status_requests"] >= 1 and report["status_ms_max"] >= report["status_ms_median"] > 0, report
