"""The output folder's staging twin (toolkit/io/staging.py): what writers do there reaches the folder only on
commit, a file another writer replaced meanwhile is never put back, and a discarded twin leaves no trace."""
import os
from pathlib import Path

from toolkit.io import fileio, staging


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def output_with_files(tmp_path: Path) -> Path:
    out = tmp_path / "output"
    for rel, text in {"督办编号.json": "{}", "2024-08/通报/a.md": "旧", "2024-08/催报/乙.md": "催",
                      "2024-08/回执/r.txt": "回执", "2024-07/old.md": "上期"}.items():
        fileio.atomic_write_text(out / rel, text)
    return out


def test_writes_removals_and_new_files_reach_the_folder_only_on_commit(tmp_path):
    out = output_with_files(tmp_path)
    before = tree(out)
    stage = staging.open_stage(out, ["2024-08"], ("回执",))
    assert stage is not None and stage.folder.parent == out.parent
    assert tree(stage.folder) == {**{k: v for k, v in before.items() if k.startswith(("督办编号", "2024-08/通报", "2024-08/催报"))},
                                  staging.MARKER: str(os.getpid()).encode()}
    fileio.atomic_write_text(stage.folder / "2024-08/通报/a.md", "新")
    fileio.atomic_write_text(stage.folder / "2024-08/看板.html", "<p>")
    fileio.atomic_write_text(stage.folder / "督办编号.json", '{"甲": 1}')
    (stage.folder / "2024-08/催报/乙.md").unlink()
    assert tree(out) == before                                  # nothing seen before the commit
    assert staging.commit(stage) is True
    assert tree(out) == {**{k: v for k, v in before.items() if k != "2024-08/催报/乙.md"},
                         "2024-08/通报/a.md": "新".encode(), "2024-08/看板.html": b"<p>", "督办编号.json": '{"甲": 1}'.encode()}
    assert not stage.folder.exists()


def test_a_file_left_alone_in_the_twin_keeps_its_time_and_a_file_replaced_meanwhile_is_not_put_back(tmp_path):
    out = output_with_files(tmp_path)
    kept = out / "2024-08/通报/a.md"
    os.utime(kept, ns=(1_000_000_000, 1_000_000_000))
    stage = staging.open_stage(out, ["2024-08"])
    fileio.atomic_write_text(out / "2024-08/催报/乙.md", "另一写入者刚写的")    # e.g. the run's own receipts
    (stage.folder / "督办编号.json").unlink()
    fileio.atomic_write_text(out / "督办编号.json", '{"新": 2}')                # replaced in place meanwhile
    staging.commit(stage)
    assert kept.stat().st_mtime_ns == 1_000_000_000
    assert (out / "2024-08/催报/乙.md").read_text(encoding="utf-8") == "另一写入者刚写的"
    assert (out / "督办编号.json").read_text(encoding="utf-8") == '{"新": 2}'


def test_a_discarded_twin_and_a_killed_runs_leftover_leave_the_folder_as_it_was(tmp_path):
    out = output_with_files(tmp_path)
    before = tree(out)
    stage = staging.open_stage(out, ["2024-08"])
    fileio.atomic_write_text(stage.folder / "2024-08/通报/a.md", "半途")
    staging.discard(stage)
    leftover = out.parent / f"{staging.twin_name(out)}99999"
    fileio.atomic_write_text(leftover / "2024-08/x.md", "被杀的运行留下的")
    other = out.parent / ".~stage-output2-1"         # another folder's twin is not this one's to sweep
    other.mkdir()
    staging.sweep(out)
    assert tree(out) == before and not stage.folder.exists() and not leftover.exists() and other.exists()


def test_a_file_system_without_hard_links_gives_no_twin(tmp_path, monkeypatch):
    out = output_with_files(tmp_path)

    def refuse(*a, **k):
        raise PermissionError(1, "Operation not permitted")
    monkeypatch.setattr(os, "link", refuse)
    assert staging.open_stage(out, ["2024-08"]) is None
    assert not list(out.parent.glob(".~stage-*"))
