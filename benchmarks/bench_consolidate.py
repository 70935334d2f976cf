"""Consolidation at provincial scale: our full run against the naive way and the parse floor.

    python benchmarks/bench_consolidate.py                 # N=1000 units × R=30 rows (30,000-row master)
    python benchmarks/bench_consolidate.py --rows 300      # stress point
    python benchmarks/bench_consolidate.py --scaling       # N = 100, 1000, 5000 and R = 30, 300

Steps, each in its own process so peak memory is its own:
  (a) naive   a loop of pandas.read_excel (openpyxl), concat, merge, to_excel (openpyxl)
  (b) floor   python-calamine reads the same sheets, xlsxwriter (constant_memory) writes the same cells
  (c) ours    the full nightly run: read, validate, merge, statistics, write master, notices; the master as the
              toolkit last wrote it (its reading kept by the process every run leaves behind, io.ledger_cache)
  (d) rerun   the same run again with no new files
  (c′)        (c) on a master the office saved by hand since (read in full: no kept reading applies)
  (e) city    the 33-unit demo as a whole CLI process (python -m toolkit nightly), wall time, and the
              phases of `python -m toolkit demo` (distribute, consolidate, notices with PDFs, ...)
(c) and (d) write no PDFs: LibreOffice converting 1000 督办单 takes minutes of its own time, not ours;
the demo's split shows what the PDFs cost. Generated files go to benchmarks/out/ (not committed).

Declared outputs (issue 23.4), before → after, back to back on 2 cores loaded by five other sessions:
(c) 106.4 s → 61.9 s, peak 413 → 239 MB; (b) 8.06 → 4.61 s, so (c)/(b) 13.2 → 13.4 says only that the load
moved; (d) 0.11 → 0.11 s; (e) 8.5 → 10.1 s. Writing the outputs serially / in threads / in forked processes:
(c) 87.4 / 83.0 / 69.8 s (TOOLKIT_OUTPUTS=serial|threads|fork).

Reading (issue 23.4, second round), before → after, back to back, load 5.6 → 7.2 → 6.6: (a) 40.3 → 59.2 s;
(b) 4.54 → 3.93 s; (c) 82.4 → 49.1 s (reading the master 14.2 → 8.1, the reader pool 15.8 → 9.4), so (c)/(b)
18.2 → 12.5; (d) 0.19 → 0.08 s; (e) 11.4 → 5.4 s. Profile first (cProfile, serial outputs, 64 s with its overhead):
the master's used-range guard 8.4 s (2.5 million expat callbacks), its parse 6.3, the print book 13.6, the reader
pool 10.4 (13 ms a unit file: range check 4.4, locked-cell fingerprints 3.8), master write 7.8, notices 5.2,
history 4.2, dashboard 4.0. Still short of 3.0: see README 性能 for where the rest goes.

Third round (quiet machine, load < 1, one run each): (b) 2.24 → 2.27 s; (c) 16.38 → 12.35 s (three more runs:
10.21, 12.07, 12.03), so (c)/(b) 7.30 → 5.45 (4.46–5.45); (d) 0.07 → 0.08 s; (e) 2.60 → 2.98 s. Reading the master
4.7 → 2.3 s (regex used-range scan, clean_text fast path, one calamine parse a sheet), the print book 6.5 → 1.4 s CPU
(constant memory, Band headings), writing the master 3.1 → 2.6 s, the inbox archived while the master is read.

Fourth round (quiet machine, but about 15% slower than in the third round: (b) 2.24 → 2.6 s for the same code),
session start (8df7c08) and end measured interleaved, four runs each: (c) 14.56, 15.04, 11.53, 13.67 → 10.62, 11.23,
10.33, 10.59 s, so (c)/(b) 5.66, 5.79, 4.56, 5.35 → 4.06, 4.23, 4.01, 4.22; (d) 0.10 → 0.09 s; (e) about 3.1–3.5 s both.
Every output and the receipts are written ahead, into a staging twin of the output folder, while the history and the
master are written (outputs.Ahead, io/staging.py); the master's far-cell guard scans its sheets in two processes;
unit files are opened once; the document writers build each table cell once. The documents written ahead are in
another process, so the phase sum below holds only what the run's own process does.

Fifth round, session start (d6f5293) and end interleaved, seven pairs: (c) mean 9.87 → 9.53 s, (c)/(b) mean 4.11 → 4.01
(3.94–4.28 → 3.68–4.17); (d) 0.08–0.10 s both; (e) about 3.0–3.4 s both. Unit files are read while the master is read
(the archiving process goes on to intake.parse_submission, at nice 19, until take_in collects; the run judges those with
intake.judge_parsed while the readers read the rest: "读取并校验报送" 1.4 → 0.7–1.1 s); workbooks and .docx are deflated at
level 3; this round's new reading checks cost 0.1–0.2 s of reading the master. The run's own process is now nearly the
whole critical path (README 性能).

Sixth round, session start (1a61031) → end, one run each on a quiet machine: (b) 2.35, 2.36 → 2.28, 2.23, 2.17 s; (c) 8.25, 8.09
→ 6.55, 6.44, 6.15 s, so (c)/(b) 3.51, 3.43 → 2.87, 2.88, 2.83 (3.07, 3.09 right after another run of this
benchmark); (c′) 7.67, 7.68, 7.28 s (3.36, 3.44, 3.35). A master the toolkit wrote and nobody edited is not
read again (io.ledger_cache: read once after the run, by a detached process, and recalled for the very same bytes,
name, time, settings and code); the history takes each file's changes from the consolidation's own merges instead
of replaying them (a fixture checks every run of the test suite against the replay); row heights skip cells that
cannot add a line. The last run's work tree is no longer deleted just before (c): on ext4 without a journal each
create scans past every inode freed in the last minutes (3 CPU-seconds of (c) in `perf`); for the same reason,
leave a few minutes between two runs of this benchmark.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toolkit import config, vocab  # noqa: E402
from toolkit.io import ledger_cache, ledger_file
from toolkit.io.ledger_file import owners_from_measures
from toolkit.model import Ledger, Measure

PHRASES = ["制定专项整改工作方案,明确责任分工、时间节点和工作要求", "召开专题会议研究部署,逐项细化任务清单、责任清单",
           "修订完善相关管理制度,建立长效工作机制", "开展专项督导检查,对发现的问题建立台账、限期整改",
           "组织专题培训,提升干部职工业务能力和政策水平", "建立定期调度和通报机制,每月跟踪推进情况"]
PROGRESS = ["已印发实施方案并组织落实,召开推进会议3次,完成阶段目标,相关制度已修订完善并印发执行,后续将持续跟踪问效。",
            "已完成前期调研,形成调研报告1份,正在起草相关文件,预计按期完成;已建立工作台账,每周调度一次推进情况。"]


def settings_for(root: Path) -> config.Settings:
    return config.from_dict({"title": "省级巡视整改台账", "period": "2024-08", "reference_date": "2024-08-31",
                             "programme_start": "2024-03-01", "submit_by": "2024-08-25", "notice_pdf": False,
                             "organisation": "中共某省卫生健康委员会委员会", "subject": "省卫生健康委"}, root)


def synthetic_ledger(units: int, rows: int, seed: int = 1) -> Ledger:
    rng = random.Random(seed)
    measures = {}
    for u in range(units):
        unit = f"第{u + 1:04d}号责任单位"
        for r in range(rows):
            n = len(measures) + 1
            kp = n % 40
            measures[f"ZG-{n:06d}"] = Measure(
                id=f"ZG-{n:06d}", theme=f"关于第{kp % 4 + 1}方面问题", key_problem=f"{kp + 1}.关于重点问题{kp + 1}的整改",
                item=f"({n % 300 + 1})针对具体问题{n % 300 + 1}存在的短板和不足问题", item_type=vocab.SPECIFIC
                if n % 5 else vocab.DRAW_LESSONS, reform=n % 37 == 0, measure=rng.choice(PHRASES) + "。",
                leader="李××(副主任)", lead_unit=unit, co_units=[], status=vocab.IN_PROGRESS,
                deadline=vocab.LONG_TERM if n % 11 == 0 else dt.date(2024, 3, 1) + dt.timedelta(days=rng.randrange(60, 300)),
                progress=PROGRESS[1])
    ledger = Ledger(measures, {}, title="省级巡视整改台账")
    ledger.owners = owners_from_measures(measures)
    return ledger


def _write_units(args):
    root, units, rows, chunk = args
    from toolkit.assessment import dated
    from toolkit.distribute import write_unit_workbook
    settings = settings_for(Path(root))
    ledger = filled_ledger(units, rows)
    for unit in chunk:
        write_unit_workbook(ledger, unit, settings, Path(root) / "inbox" / f"{unit}.xlsx",
                            period=dated(settings).period)


def filled_ledger(units: int, rows: int) -> Ledger:
    """The ledger as the units report it back: 60% done, new progress text."""
    ledger = synthetic_ledger(units, rows)
    rng = random.Random(2)
    for entry in ledger.owners.values():
        entry.status = vocab.DONE if rng.random() < 0.6 else vocab.IN_PROGRESS
        entry.progress = PROGRESS[0] if entry.status == vocab.DONE else PROGRESS[1]
    return ledger


def prepare(root: Path, units: int, rows: int) -> Path:
    """A folder with the master and one filled workbook per unit in the inbox (reused when present)."""
    from multiprocessing import Pool

    from toolkit.io import master_file
    marker = root / "prepared.json"
    if marker.exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    (root / "inbox").mkdir(parents=True)
    settings = settings_for(root)
    ledger = synthetic_ledger(units, rows)
    master_file.write_master(ledger, settings)
    names = ledger.units
    chunks = [names[i::4] for i in range(4)]
    with Pool(2) as pool:
        pool.map(_write_units, [(str(root), units, rows, c) for c in chunks])
    base = dt.datetime(2024, 8, 20, 9).timestamp()
    for i, p in enumerate(sorted((root / "inbox").iterdir())):
        os.utime(p, (base + i, base + i))
    marker.write_text(json.dumps({"units": units, "rows": rows}))
    return root


def peak_mb() -> float:
    """This process's own peak resident memory (VmHWM; ru_maxrss would include the parent's at fork)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------- steps (run in child processes)

def step_naive(root: Path) -> dict:
    import pandas as pd
    t0 = time.perf_counter()
    frames = [pd.read_excel(p, sheet_name=vocab.SHEET_LEDGER, header=1, engine="openpyxl")
              for p in sorted((root / "inbox").glob("*.xlsx"))]
    reported = pd.concat(frames, ignore_index=True)[[vocab.ID, vocab.STATUS, vocab.PROGRESS, vocab.EVIDENCE]]
    master = pd.read_excel(root / "master" / "整改台账.xlsx", sheet_name=vocab.SHEET_LEDGER, header=1, engine="openpyxl")
    merged = master.drop(columns=[vocab.STATUS, vocab.PROGRESS, vocab.EVIDENCE]).merge(reported, on=vocab.ID, how="left")
    merged.to_excel(root / "naive.xlsx", index=False, engine="openpyxl")
    return {"seconds": time.perf_counter() - t0, "rows": len(reported)}


def step_floor(root: Path) -> dict:
    import xlsxwriter
    from python_calamine import CalamineWorkbook
    t0 = time.perf_counter()
    rows = []
    for p in sorted((root / "inbox").glob("*.xlsx")):
        rows += CalamineWorkbook.from_path(str(p)).get_sheet_by_name(vocab.SHEET_LEDGER).to_python()[2:]
    wb = xlsxwriter.Workbook(str(root / "floor.xlsx"), {"constant_memory": True})
    ws = wb.add_worksheet(vocab.SHEET_LEDGER)
    for r, row in enumerate(rows):
        for c, v in enumerate(row[:len(vocab.COLUMNS)]):
            if isinstance(v, str):
                ws.write_string(r, c, v)
            elif isinstance(v, (int, float)):
                ws.write_number(r, c, v)
            elif isinstance(v, (dt.date, dt.datetime)):
                ws.write_datetime(r, c, dt.datetime(v.year, v.month, v.day))
    wb.close()
    return {"seconds": time.perf_counter() - t0, "rows": len(rows)}


PHASES = [("读取台账", "toolkit.io.ledger_file", "read_master"), ("读取并校验报送", "toolkit.readers", "read_all"),
          ("归档", "toolkit.archive", "archive_copy"), ("合并", "toolkit.merging", "merge"),
          ("评估", "toolkit.assessment", "assess"), ("写台账", "toolkit.io.master_file", "write_master"),
          ("变更记录", "toolkit.history", "record"), ("通报", "toolkit.documents.notices", "write_notices"),
          ("看板与调度单", "toolkit.documents.dashboard", "write_dashboard"),
          ("打印版", "toolkit.documents.ledger_print", "build"),
          ("回执", "toolkit.documents.receipts", "write_receipts")]


def _instrument(phases=PHASES) -> dict[str, float]:
    """Wrap the phase functions to add up where the time goes. Each is found where it is defined and
    replaced in every toolkit module that imported it (so a function moved or re-exported is still timed);
    a phase that names no function stops the benchmark saying which (tests/test_benchmarks.py runs it)."""
    import importlib
    importlib.import_module("toolkit.nightly")    # every module that may hold a phase, loaded before patching
    spent: dict[str, float] = {}
    for label, module, name in phases:
        try:
            fn = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            raise SystemExit(f"benchmark phase {label!r}: {module}.{name} no longer exists; update PHASES") from None

        def timed(*a, __fn=fn, __label=label, **k):
            t = time.perf_counter()
            try:
                return __fn(*a, **k)
            finally:
                spent[__label] = spent.get(__label, 0.0) + time.perf_counter() - t
        holders = [m for key, m in list(sys.modules.items()) if key.startswith("toolkit") and m is not None]
        for mod in holders:
            for attr, value in list(vars(mod).items()):
                if value is fn:
                    setattr(mod, attr, timed)
    return spent


def step_ours(root: Path, work: Path) -> dict:
    from toolkit.nightly import run_once
    spent = _instrument()
    settings = settings_for(work)
    t0 = time.perf_counter()
    report = run_once(settings)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "rows": report.consolidation.accepted_rows,
            "accepted": report.consolidation.count(vocab.OUTCOME_ACCEPTED), "phases": spent}


def step_rerun(root: Path, work: Path) -> dict:
    from toolkit.nightly import run_once
    t0 = time.perf_counter()
    report = run_once(settings_for(work))
    return {"seconds": time.perf_counter() - t0, "rows": 0, "quick": report.quick}


DEMO_PHASES = [("分发", "toolkit.distribute", "distribute"),
               ("汇总（读取、校验、归档、合并、写台账、回执）", "toolkit.consolidate", "consolidate"),
               ("通报（.md/.docx）", "toolkit.documents.notices", "write_notices"),
               ("其中 PDF（LibreOffice）", "toolkit.documents.notices", "write_pdfs"),
               ("看板与领导调度单", "toolkit.documents.dashboard", "write_dashboard"),
               ("台账打印版", "toolkit.documents.ledger_print", "build"),
               ("催报", "toolkit.documents.reminders", "write_reminders")]


def step_city(root: Path) -> dict:
    """What `python -m toolkit demo` runs, in this process, phase by phase (wall time)."""
    from toolkit import demo
    from toolkit.app import Workspace
    spent = _instrument(DEMO_PHASES)
    workspace = Workspace(demo.stage_demo(root / "city-phases"))
    t0 = time.perf_counter()
    workspace.run_once(distribute_first=True)
    return {"seconds": time.perf_counter() - t0, "rows": 263, "phases": spent}


def child(step: str, root: str, work: str | None) -> None:
    root_p = Path(root)
    out = {"naive": lambda: step_naive(root_p), "floor": lambda: step_floor(root_p),
           "ours": lambda: step_ours(root_p, Path(work)), "rerun": lambda: step_rerun(root_p, Path(work)),
           "city": lambda: step_city(root_p)}[step]()
    out["peak_mb"] = peak_mb()
    print(json.dumps(out, ensure_ascii=False))


def run_child(step: str, root: Path, work: Path | None = None) -> dict:
    cmd = [sys.executable, __file__, "--child", step, "--dir", str(root)] + (["--work", str(work)] if work else [])
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"{step} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def city_wall(out: Path) -> dict:
    from toolkit import demo
    stage = out / "city"
    demo.stage_demo(stage)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "toolkit", "nightly", "-c", str(stage)], capture_output=True,
                          text=True, cwd=ROOT)
    if proc.returncode:
        raise SystemExit(proc.stderr)
    return {"seconds": time.perf_counter() - t0, "rows": 263, "peak_mb": float("nan")}


def measure(units: int, rows: int, out: Path, naive: bool = True) -> dict:
    root = prepare(out / f"n{units}-r{rows}", units, rows)
    if ledger_cache.recall(settings_for(root)) is None:      # as the last run leaves it (this code's reading)
        ledger_file.remember(settings_for(root))
    work = fresh_work(out, f"n{units}-r{rows}-work")
    edited = fresh_work(out, f"n{units}-r{rows}-edited")
    for folder in (work, edited):
        shutil.copytree(root, folder, ignore=shutil.ignore_patterns("naive.xlsx", "floor.xlsx"))
    (edited / ledger_cache.CACHE_FILE).unlink(missing_ok=True)    # the office saved the master by hand since
    results = {}
    if naive:
        results["(a) naive"] = run_child("naive", root)
    results["(b) floor"] = run_child("floor", root)
    results["(c) ours"] = run_child("ours", root, work)
    settle_reading(work, units * rows)
    results["(d) rerun"] = run_child("rerun", root, work)
    results["(c′) ours, master edited by hand"] = run_child("ours", root, edited)
    settle_reading(edited, units * rows)
    return results


def settle_reading(work: Path, measures: int, timeout: float = 60) -> None:
    """Wait for the reading a run leaves behind (io.ledger_cache, detached) so the next step has both cores."""
    if measures < ledger_cache.CACHE_FROM:
        return
    settings = settings_for(work)
    end = time.monotonic() + timeout
    while time.monotonic() < end and ledger_cache.recall(settings) is None:
        time.sleep(0.5)


def fresh_work(out: Path, name: str) -> Path:
    """A new folder for this measurement; the last one's is moved aside and deleted when the benchmark ends.

    Deleting the last run's ~6,000 files just before (c) made (c) pay for it: ext4 without a journal (the
    file system these figures were taken on) will not reuse an inode freed in the last minute or so (six while
    its block is unwritten) and scans past every such inode on each create, so each of the ~5,000 files (c)
    creates cost a scan of the 6,000 just deleted (3 CPU-seconds of kernel time in `perf`, and (c) 0.5–1.5 s)."""
    work = out / name
    if work.exists():
        work.rename(_trash(out) / f"{name}-{time.time_ns()}")
    return work


def _trash(out: Path) -> Path:
    trash = out / ".trash"
    trash.mkdir(exist_ok=True)
    return trash


def empty_trash(out: Path) -> None:
    """The folders fresh_work moved aside, deleted once nothing is measured any more."""
    shutil.rmtree(out / ".trash", ignore_errors=True)


def table(results: dict, title: str) -> str:
    lines = [f"### {title}", "", "| step | seconds | rows/s | peak MB |", "|---|---:|---:|---:|"]
    for name, r in results.items():
        rate = f"{r['rows'] / r['seconds']:,.0f}" if r.get("rows") and r["seconds"] else "–"
        peak = "–" if r["peak_mb"] != r["peak_mb"] else f"{r['peak_mb']:.0f}"
        lines.append(f"| {name} | {r['seconds']:.2f} | {rate} | {peak} |")
    c, b, a = results.get("(c) ours"), results.get("(b) floor"), results.get("(a) naive")
    if c and b:
        lines.append(f"\n(c)/(b) = {c['seconds'] / b['seconds']:.2f}  (issue 23: ≤ 3.0, on the way to 2.0)")
    if a and c:
        lines.append(f"(a)/(c) = {a['seconds'] / c['seconds']:.2f}  (how much faster than the naive way)")
    if c and c.get("phases"):
        total = sum(c["phases"].values())
        lines.append("\nwhere (c) spends its time: " + ", ".join(
            f"{k} {v:.2f}s" for k, v in sorted(c["phases"].items(), key=lambda kv: -kv[1])) + f" (sum {total:.2f}s; "
            "documents and receipts written ahead in another process are not in it)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=30)
    parser.add_argument("--scaling", action="store_true")
    parser.add_argument("--no-naive", action="store_true", help="skip the (slow) naive step")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    parser.add_argument("--child")
    parser.add_argument("--dir")
    parser.add_argument("--work")
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.dir, args.work)
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    results = measure(args.units, args.rows, args.out, naive=not args.no_naive)
    results["(e) city demo CLI (wall)"] = city_wall(args.out)
    print(table(results, f"N={args.units} units × R={args.rows} rows ({args.units * args.rows:,} measures)"))
    city = run_child("city", args.out)
    print(f"\n`python -m toolkit demo` (33 units, run_once with distribute) {city['seconds']:.2f}s: "
          + ", ".join(f"{k} {v:.2f}s" for k, v in city["phases"].items()))
    if args.scaling:
        for n, r in ((100, 30), (5000, 30), (100, 300)):
            print()
            print(table(measure(n, r, args.out, naive=False), f"N={n} × R={r} ({n * r:,} measures)"))
    empty_trash(args.out)


if __name__ == "__main__":
    main()
