"""Template loading and rendering for every document: the workspace's templates/ first, then the profile's
package templates, then the package's; an error names the template file and line in Chinese.

One floor below the documents (notices, receipts, reminders, leaders, ladder, dashboard import it), so a
document never imports another just to render. Templates are plain jinja2 files staff can edit; a missing
variable is an error (StrictUndefined), never a silent blank.
"""
from __future__ import annotations

import datetime as dt
import re
import shutil
import traceback
import types
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import jinja2
from jinja2.runtime import LoopContext
from jinja2.sandbox import SandboxedEnvironment

from .. import resources, vocab
from ..errors import SourceError
from ..model import Settings, Status
from ..problems import Location
from ..rules import normalize, punct
from ..rules.stats import Counts

TEMPLATE_DIR = resources.folder("templates")      # the package's templates: the fallback for every name
PROFILE_FOLDER = "方案"                            # templates/方案/<配置方案>/: a profile's own wording of a template
WORKSPACE_FOLDER = "templates"                     # <workspace>/templates/: the office's own copies, used first
GUIDE = "README.md"                                # the variables' list, copied beside the office's templates


def pct(value: float) -> str:
    """87.5% — one decimal, as notices print percentages."""
    return f"{value:.1f}%"


def sentence(text: str) -> str:
    """The text as a finished sentence: a 。 added unless it already ends with 。！？ (a message or file name
    put into a receipt's line)."""
    text = str(text).rstrip()
    return text if not text or text[-1] in "。！？" else text.rstrip("；;，,：:") + "。"


IMAGE_LINE = re.compile(r"^!\[.*\]\(.*\)$")
# A line without these is what punct.fullwidth returns it as (no half-width mark to convert, no private-use
# character its file-name masking could confuse; under 19,000 characters it cannot hold more names than it masks).
HALF_MARKS = re.compile('[,;:!?()"\ue000-\uf8ff]')
SHORT_LINE = 19000


def chinese(text: str) -> str:
    """Rendered text with full-width punctuation in its Chinese sentences (data and config values included);
    Markdown picture lines keep their syntax; a short line with no half-width mark is kept as it is (fast)."""
    return "\n".join(line if (len(line) < SHORT_LINE and not HALF_MARKS.search(line)) or IMAGE_LINE.match(line.strip())
                     else punct.fullwidth(line) for line in text.split("\n"))


def profile_folder(profile: str) -> Path:
    """The package's templates written for one profile (templates/方案/<profile>/; may not exist)."""
    return TEMPLATE_DIR / PROFILE_FOLDER / profile


def folders(settings: Settings | Path | None = None) -> tuple[Path, ...]:
    """Where a workspace's templates are looked up, first match wins: its own templates/ folder, the
    package's templates for its profile, the package's templates. A Path is one folder alone (tests, tools)."""
    if settings is None:
        return (TEMPLATE_DIR,)
    if isinstance(settings, Path):
        return (settings,)
    out = [Path(settings.root) / WORKSPACE_FOLDER, profile_folder(settings.profile), TEMPLATE_DIR]
    return tuple(f for f in out if f.is_dir())


def package_names(profile: str) -> dict[str, Path]:
    """Each template name of the package with the file a workspace of profile uses for it (the profile's
    own wording where it has one)."""
    out = {p.name: p for p in sorted(TEMPLATE_DIR.glob("*.j2"))}
    out.update({p.name: p for p in sorted(profile_folder(profile).glob("*.j2"))})
    return out


def write_copies(settings: Settings) -> tuple[list[Path], list[Path]]:
    """Copy the package's templates (the profile's wording) into the workspace's templates/ folder for the
    office to edit: (written, kept) — a file already there is the office's and is never overwritten."""
    target = Path(settings.root) / WORKSPACE_FOLDER
    target.mkdir(parents=True, exist_ok=True)
    written, kept = [], []
    sources = package_names(settings.profile)
    sources[GUIDE] = TEMPLATE_DIR / GUIDE
    for name, source in sources.items():
        path = target / name
        if path.exists():
            kept.append(path)
            continue
        shutil.copyfile(source, path)
        written.append(path)
    return written, kept


class OutsideFolder(jinja2.TemplateError):
    """A template file that is a link to a file outside its templates folder."""


class FolderLoader(jinja2.FileSystemLoader):
    """FileSystemLoader that reads only files inside its folders: a link in templates/ to /etc/passwd or to
    config.toml is refused (jinja2 itself already refuses '..' and absolute names)."""

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        source, filename, uptodate = super().get_source(environment, template)
        real = Path(filename).resolve()
        if not any(real.is_relative_to(Path(f).resolve()) for f in self.searchpath):
            raise OutsideFolder(f"“{template}”指向模板文件夹以外的文件 {real}，不予读取：模板只能引用"
                                f"模板文件夹中的文件，请把它换成文件本身的副本")
        return source, filename, uptodate


def loader(where: tuple[Path, ...]) -> jinja2.BaseLoader:
    """A loader over the folders in order (jinja2 still reloads a template whose file changed)."""
    return FolderLoader([str(f) for f in where])


# Record types whose fields templates read by the hundred thousand (the dashboard, 调度单): plain data classes
# of this package, registered with @record. PLAIN_VALUES: field values handed out as they are.
RECORDS: set[type] = {types.ModuleType, Counts,    # vocab.DONE and each leader's counts in the dashboard's loops
                      LoopContext}                 # loop.index in every table row
PLAIN_VALUES = frozenset({str, Status, int, float, bool, type(None), tuple, list, dict, dt.date, dt.datetime})
_MISSING = object()
DICT_ATTRIBUTES = frozenset(dir(dict))   # names a dict answers as attributes (items, get …): jinja2 prefers those
T = TypeVar("T", bound=type)


def record(cls: T) -> T:
    """Register a data class whose fields templates read (Sandbox.getattr answers those from a memo)."""
    RECORDS.add(cls)
    return cls


class Sandbox(SandboxedEnvironment):
    """jinja2's sandbox asking its own attribute check once per (type, name), not per access, for a record's
    plain data values and a plain dict's methods (状态称谓.get), and reading a plain dict's key (i.编号) straight
    from the dict, as jinja2 ends up doing after its attribute lookup fails; everything else (str.format,
    other methods, non-records) takes jinja2's full path."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._safe: dict[tuple[type, str], bool] = {}

    def _allowed(self, obj: Any, attribute: str, value: Any) -> bool:
        """jinja2's attribute check, asked once per (type, name): it looks at the type and the name only."""
        safe = self._safe.get((type(obj), attribute))
        if safe is None:
            safe = self._safe[type(obj), attribute] = self.is_safe_attribute(obj, attribute, value)
        return safe

    def getattr(self, obj: Any, attribute: str) -> Any:
        kind = type(obj)
        if kind is dict and type(attribute) is str:
            if attribute not in DICT_ATTRIBUTES:
                value = obj.get(attribute, _MISSING)
                if value is not _MISSING:
                    return value
            else:
                value = getattr(obj, attribute)      # a dict's method (get, items …): never a str.format to wrap
                if self._allowed(obj, attribute, value):
                    return value
        elif kind in RECORDS and type(attribute) is str:
            value = getattr(obj, attribute, _MISSING)
            if type(value) in PLAIN_VALUES and self._allowed(obj, attribute, value):
                return value
        return super().getattr(obj, attribute)


FILTERS: dict[str, Callable] = {
    "日期": normalize.format_date, "中文日期": normalize.format_date_cn, "百分比": pct,
    "期次": normalize.period_text, "句末": sentence,
    "序号": lambda n: f"（{'一二三四五六七八九十'[n - 1]}）" if 0 < n <= 10 else f"（{n}）",
}


@lru_cache(maxsize=16)
def environment(where: tuple[Path, ...] = (TEMPLATE_DIR,)) -> jinja2.Environment:
    """One text environment per list of folders, compiled once per process; sandboxed, as an office's template
    is a file handed around, not code (no __class__, __globals__ or os from a template)."""
    env = Sandbox(loader=loader(where), undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                  trim_blocks=True, lstrip_blocks=True, autoescape=False)
    env.filters.update(FILTERS)
    return env


def _template_line(exc: BaseException) -> tuple[str, int | None]:
    """(file, line) of the innermost template frame of an error raised while rendering ('' when none)."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if not frame.filename.endswith(".py") and not frame.filename.startswith("<"):
            return frame.filename, frame.lineno
    return "", None


def located(name: str, where: tuple[Path, ...], exc: BaseException) -> SourceError:
    """The Chinese error for a template that failed: its file, its line, what is wrong and what to do."""
    if isinstance(exc, jinja2.TemplateNotFound):
        missing = exc.name or name
        return SourceError(f"找不到模板“{missing}”（查找的文件夹：{'、'.join(str(f) for f in where)}）。"
                           f"请检查文件名，或运行 python -m toolkit init --templates 工作区文件夹 写出全部模板。",
                           kind="template-not-found", where=Location(file=str(missing)), name=missing)
    if isinstance(exc, jinja2.TemplateSyntaxError):
        file, line = exc.filename or name, exc.lineno
        return SourceError(f"模板 {file} 第{line}行语法有误：{exc.message}。请对照 {GUIDE} 改正该行"
                           f"（删除本工作区 templates 中的这个文件即改用内置模板）。",
                           kind="template-syntax", where=Location(file=str(file), row=line), name=name, line=line,
                           detail=exc.message)
    file, line = _template_line(exc)
    file = file or name
    at = f"第{line}行" if line else ""
    if isinstance(exc, jinja2.UndefinedError):
        return SourceError(f"模板 {file} {at}使用了未提供的变量：{exc.message}。可用变量见模板文件夹中的 {GUIDE}，"
                           f"请改正该行（删除本工作区 templates 中的这个文件即改用内置模板）。",
                           kind="template-undefined-variable", where=Location(file=str(file), row=line or None),
                           name=name, detail=exc.message)
    if isinstance(exc, jinja2.exceptions.SecurityError):     # the sandbox refused Python internals
        return SourceError(f"模板 {file} {at}访问了模板不允许使用的程序内部对象（{exc.message}）：模板只能使用"
                           f" {GUIDE} 中列出的变量。请改正该行（删除本工作区 templates 中的这个文件即改用内置模板）。",
                           kind="template-error", where=Location(file=str(file), row=line or None), name=name,
                           detail=str(exc.message))
    return SourceError(f"模板 {file} {at}出错：{exc}。请改正该行（删除本工作区 templates 中的这个文件即改用内置模板）。",
                       kind="template-error", where=Location(file=str(file), row=line or None), name=name,
                       detail=str(exc))


def _in_template(exc: BaseException) -> bool:
    return bool(_template_line(exc)[0])


def wording(settings: Settings | Path | None = None) -> dict:
    """The profile's words every template may use (措施称谓, 计量, 重点问题称谓 …, 工作 / 整改工作 / 反馈来源) and
    状态称谓, each status as the list says it: one table, [wording], for every document."""
    words = {**vocab.NOTICE_WORDING, **(settings.words if isinstance(settings, Settings) else {})}
    rectifying = "整改" in words.get("整改工作", "整改")      # 巡视/审计/民主生活会 lists; not 督查督办, 责任清单
    return {**words, "状态称谓": {s: words[key] for s, key in vocab.STATUS_WORDING.items()},
            "整改称谓": "整改" if rectifying else ""}


def render(name: str, context: dict, settings: Settings | Path | None = None) -> str:
    """Render one template for a workspace (settings), a single folder (Path) or the package (None), with
    the profile's words (wording) under the context's own variables and full-width punctuation; any
    template error is a ToolkitError naming the file and line."""
    where = folders(settings)
    try:
        return chinese(environment(where).get_template(name).render(**{**wording(settings), **context}))
    except jinja2.TemplateError as exc:
        raise located(name, where, exc) from None
    except (TypeError, ValueError, ZeroDivisionError, AttributeError, KeyError, IndexError) as exc:
        if not _in_template(exc):
            raise
        raise located(name, where, exc) from None


def digest_folders(settings: Settings) -> list[Path]:
    """The folders whose files a quick rerun must find unchanged (the package's first, as before)."""
    return [TEMPLATE_DIR] + [f for f in folders(settings) if f != TEMPLATE_DIR]
