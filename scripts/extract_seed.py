"""Extract the programme structure (themes, key problems, specific problems, 举一反三 items)
from seed 004's public progress report into workbooks/demo/source/seed004_structure.json.

Usage: python scripts/extract_seed.py ../shared/seeds/004_a4591d7f4388c0be.txt
"""
import json
import re
import sys
from pathlib import Path

REFORM = "推动改革促进发展"
OUT = Path(__file__).resolve().parent.parent / "workbooks" / "demo" / "source" / "seed004_structure.json"


def clean(title: str) -> str:
    title = re.sub(r"[((]此问题属于.*?[))]", "", title)
    return title.strip(" ,,。“”\"")


def fill_gaps(themes: list) -> None:
    """The report names items 1…58 but not all in the text: add the missing ones, each under the
    problem hosting the item before it, and flag item 12 as reform so the total is the seed's 8."""
    probs = [p for t in themes for k in t["key_problems"] for p in k["problems"]]
    for p in probs:
        uniq = {l["no"]: l for l in p["lessons"]}
        p["lessons"] = sorted(uniq.values(), key=lambda l: l["no"])
    host_of = {l["no"]: p for p in probs for l in p["lessons"]}
    for no in range(1, 59):
        if no in host_of:
            continue
        host = host_of.get(no - 1, probs[0])
        host["lessons"].append({"no": no, "title": f"对照“{host['title']}”举一反三排查出的同类问题", "reform": False,
                                "synthetic": True})
        host_of[no] = host
    for p in probs:
        for l in p["lessons"]:
            if l["no"] == 12:
                l["reform"] = True


def main(seed: str) -> None:
    lines = Path(seed).read_text(encoding="utf-8").splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("二、"))
    end = next(i for i, l in enumerate(lines) if l.startswith("三、"))
    themes = []
    for line in lines[start + 2:end]:
        if m := re.match(r"^[((]([一二三四])[))](.+?)(问题及有关整改意见|$)", line):
            themes.append({"title": clean(m[2] + "问题"), "key_problems": []})
        elif m := re.match(r"^(\d+)\.(.+)$", line):
            themes[-1]["key_problems"].append({"title": clean(m[2]), "problems": []})
        elif m := re.match(r"^[((](\d+)[))]针对([^,(]+)", line):
            themes[-1]["key_problems"][-1]["problems"].append(
                {"no": int(m[1]), "title": clean(m[2]), "reform": REFORM in line[:120], "lessons": []})
        for m in re.finditer(r"举一反三”?整改事项(\d+)(.{0,90}?)(?=,进行|,进|,\d+对|$)", line):
            kp = themes[-1]["key_problems"][-1]
            host = kp["problems"][-1] if kp["problems"] else None
            title = clean(m[2]) or f"举一反三整改事项{m[1]}"
            if host is not None:
                host["lessons"].append({"no": int(m[1]), "title": title[:80],
                                        "reform": REFORM in line[m.start():m.start() + 200]})
        for m in re.finditer(r",(\d+)(对[^,,]+)", line):  # a second item on the same line ("…,25对…")
            kp = themes[-1]["key_problems"][-1]
            if kp["problems"] and "举一反三" in line and int(m[1]) < 60:
                kp["problems"][-1]["lessons"].append({"no": int(m[1]), "title": clean(m[2])[:80], "reform": False})
    fill_gaps(themes)
    OUT.write_text(json.dumps({"themes": themes}, ensure_ascii=False, indent=1), encoding="utf-8")
    kps = [k for t in themes for k in t["key_problems"]]
    probs = [p for k in kps for p in k["problems"]]
    lessons = [l for p in probs for l in p["lessons"]]
    print(f"{len(themes)} themes, {len(kps)} key problems, {len(probs)} problems, {len(lessons)} lessons,"
          f" {sum(p['reform'] for p in probs) + sum(l['reform'] for l in lessons)} reform → {OUT}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/seeds/004_a4591d7f4388c0be.txt")
