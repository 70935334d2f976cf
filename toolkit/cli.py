"""Command line (Chinese help): each command parses options, calls one public function, prints.

Errors raised by the core (ToolkitError) become one Chinese line and exit code 1.
"""
from __future__ import annotations

import functools
import sys
from dataclasses import replace
from pathlib import Path

import click

from . import addin, autostart, click_zh, config, profiles, vocab, wps
from . import check as health
from .app import Workspace, file_errors, noted_warnings
from .config import from_dict
from .demo import stage_demo
from .documents import templating
from .documents.notices import KINDS
from .errors import ToolkitError, UsageError
from .nightly import Scheduler, setup_logging
from .profile_demo import stage_profile_demo
from .results import as_json as to_json
from .results import consolidation_data
from .serve import DEFAULT_PORT, Server, Service, opener, probe

JSON_OPTION = click.option("--json", "as_json", is_flag=True, default=False,
                           help="以 JSON 输出结果（或问题的类型、位置和参数），供脚本读取")
CONFIG_OPTION = click.option("-c", "--config", "config_path", type=click.Path(path_type=Path), default=None,
                             help="配置文件或其所在文件夹（默认当前文件夹的 config.toml）")


def friendly(fn):
    """Turn domain errors into one readable line (never a traceback), and the toolkit's warnings an
    operation did not report itself (e.g. check in a year the holiday table does not know) into 提示 lines."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            with file_errors(), noted_warnings() as noted:   # a file error outside the workspace's guard too
                result = fn(*args, **kwargs)
        except ToolkitError as exc:
            if kwargs.get("as_json"):                        # the same problem as data, for a script
                click.echo(to_json(exc))
                sys.exit(1)
            guidance = f" {exc.guidance}" if exc.guidance else ""   # input (fix the file) or environment (check the machine)
            click.secho(f"错误：{exc}{guidance}", fg="red", err=True)         # still one line
            sys.exit(1)
        for line in noted:
            click.echo(f"提示：{line}", err=bool(kwargs.get("as_json")))    # stdout stays one JSON document
        return result
    return wrapper


click_zh.install()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="zhenggai-toolkit")
def cli():
    """整改台账工具：分发模板、汇总报送、统计进度、标记逾期、生成通报。"""


PROFILE_OPTION = click.option("--profile", "profile", default="", metavar="方案",
                              help="配置方案：巡视巡察整改（默认）、审计整改、督查督办、责任清单、民主生活会整改，或本单位方案文件 .toml")


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path), default=Path("."))
@PROFILE_OPTION
@click.option("--templates", "templates", is_flag=True,
              help="把内置的通报、督办单、回执等模板复制到 FOLDER/templates/ 供本单位修改（已有的不覆盖）；工作区已存在时只复制模板")
@friendly
def init(folder, profile, templates):
    """在 FOLDER 中生成配置文件 config.toml、文件夹、空白台账和双击运行的快捷方式。

    示例：python -m toolkit init 台账    或    python -m toolkit init --profile 审计整改 审计台账
    已有的工作区写出模板以便修改：python -m toolkit init --templates 台账
    """
    if templates and (Path(folder) / config.CONFIG_NAME).exists():
        if profile:
            raise UsageError(kind="profile-on-existing-workspace", path=Path(folder) / config.CONFIG_NAME)
        _write_templates(config.load(Path(folder)))
        return
    workspace = Workspace.init(folder, profile)
    settings = workspace.settings
    click.echo(f"已在 {settings.root} 中生成：")
    for path in workspace.created:
        click.echo(f"  {path.relative_to(settings.root)}")
    click.echo(f"以及文件夹 {'、'.join(settings.paths)}。")
    if settings.master in workspace.created:
        click.echo(f"台账 {settings.master} 是空白台账（含表头和一行示例）：可直接填写，或用本单位的台账替换它（文件名不变）。")
    click.echo("双击 .cmd（Windows）或 .sh（Linux）快捷方式即可汇总报送、刷新统计、生成通报、分发模板、催报（不需要 Excel 宏）。")
    if templates:
        _write_templates(settings)


def _write_templates(settings) -> None:
    """Copy the package's templates into the workspace and say which were written and which kept."""
    with file_errors(settings.root):
        written, kept = templating.write_copies(settings)
    folder = settings.root / templating.WORKSPACE_FOLDER
    click.echo(f"模板已写到 {folder}（{len(written)}个）；生成文书时先用这里的模板，没有的再用内置模板。")
    if kept:
        click.echo(f"已有的{len(kept)}个文件未覆盖：{'、'.join(p.name for p in kept)}。")


@cli.command()
@CONFIG_OPTION
@click.option("--unit", "units", multiple=True, help="只分发给这些单位（可重复）")
@friendly
def distribute(config_path, units):
    """分发：按责任单位生成填报模板到 outbox/<期次>/。

    示例：python -m toolkit distribute -c workbooks/demo-run
    """
    done = Workspace.open(config_path).distribute(list(units) or None)
    written = sum(d.written for d in done)
    click.echo(f"分发完成：{len(done)}个单位，新写入{written}个，未变化{len(done) - written}个。")
    if done:
        click.echo(f"模板位置：{done[0].path.parent}")


@cli.command()
@CONFIG_OPTION
@click.option("--again", "again", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="办公室更正台账或配置后，重新汇总此前被退回的文件（可重复；通常是归档文件夹中的文件）")
@JSON_OPTION
@friendly
def consolidate(config_path, again, as_json):
    """汇总：读取 inbox/ 中各单位报送的文件，校验后并入台账，写回执。

    示例：python -m toolkit consolidate -c workbooks/demo-run
    """
    result = Workspace.open(config_path).consolidate(again=[Path(p) for p in again])
    if as_json:
        click.echo(to_json({**consolidation_data(result), "notes": result.ledger.read_notes}))
        return
    for line in result.lines() + [f"提示：{note}" for note in result.ledger.read_notes]:
        click.echo(line)     # the notes: what reading the master noticed (销号审核 edits not applied …)


@cli.command()
@CONFIG_OPTION
@click.option("--kind", "kinds", multiple=True, type=click.Choice(["通报", "督办单", "公开"]),
              help="只生成这些类型（可重复；默认全部）")
@click.option("--date", "on", type=click.DateTime(["%Y-%m-%d"]), default=None, help="基准日期，如 2024-08-31（默认取配置）")
@friendly
def notice(config_path, kinds, on):
    """通报：按模板生成进展通报、督办单和公开进展段落（文本 + .docx）。

    示例：python -m toolkit notice -c workbooks/demo-run --kind 通报 --date 2024-08-31
    """
    written = Workspace.open(config_path).notices(kinds or KINDS, on.date() if on else None)
    click.echo(f"已生成{len(written)}个文件：{written[0].parent if written else ''}")
    for path in written:
        click.echo(f"  {path.name}")
    for warning in written.warnings:
        click.echo(f"提示：{warning}")


@cli.command()
@click.argument("ledger_file", type=click.Path(path_type=Path), required=False)
@CONFIG_OPTION
@friendly
def check(ledger_file, config_path):
    """体检：读取台账，显示读取方式、层级统计、公开进展段落和可疑之处；不写任何文件。

    有须改正之处时退出码为 1。
    示例：python -m toolkit check -c workbooks/demo-run    或    python -m toolkit check 台账.xlsx
    """
    path, settings = health.settings_for(ledger_file, config_path)
    report = health.check(path, settings)
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        sys.exit(1)


@cli.command()
@CONFIG_OPTION
@click.option("--date", "on", type=click.DateTime(["%Y-%m-%d"]), default=None, help="基准日期，如 2024-08-22（默认取配置）")
@friendly
def remind(config_path, on):
    """催报：报送截止日前，为本期尚未报送的单位生成催报（文本 + .docx）。

    示例：python -m toolkit remind -c workbooks/demo-run --date 2024-08-22
    """
    for line in Workspace.open(config_path).remind(on.date() if on else None).lines():
        click.echo(line)


@cli.command()
@CONFIG_OPTION
@click.option("--date", "on", type=click.DateTime(["%Y-%m-%d"]), default=None, help="基准日期，如 2024-08-31（默认取配置）")
@JSON_OPTION
@friendly
def refresh(config_path, on, as_json):
    """刷新统计：按台账本身重算统计、逾期标记和本期历史进度；不读取收件箱。

    示例：python -m toolkit refresh -c 台账
    """
    refreshed = Workspace.open(config_path).refresh_master(on.date() if on else None)
    for line in [to_json(refreshed)] if as_json else refreshed.lines():
        click.echo(line)


def _progress():
    """A progress callback for long runs when attached to a terminal (None otherwise)."""
    if not sys.stderr.isatty():
        return None

    def on_file(i, n, name):
        width = 30
        done = int(width * i / max(n, 1))
        click.echo(f"\r[{'#' * done}{'.' * (width - done)}] {i}/{n} {name[:40]:<40}", nl=(i == n), err=True)
    return on_file


@cli.command()
@CONFIG_OPTION
@click.option("--distribute/--no-distribute", "distribute_first", default=False, help="汇总前先分发模板")
@JSON_OPTION
@friendly
def nightly(config_path, distribute_first, as_json):
    """每晚汇总：汇总收件箱、刷新统计与逾期标记、生成通报、写运行报告。

    退出码：0 表示运行完成（即使有退回的文件），非 0 表示运行本身失败。
    示例：python -m toolkit nightly -c workbooks/demo-run
    """
    workspace = Workspace.open(config_path)
    setup_logging(workspace.settings, console=False)
    report = workspace.run_once(distribute_first, on_file=_progress())
    for line in [to_json(report)] if as_json else report.lines():
        click.echo(line)


@cli.command(name="schedule")
@CONFIG_OPTION
@click.option("--at", "at", default=None, help="每天运行的时间 HH:MM（默认取配置，02:00）")
@click.option("--every", "every", type=int, default=None, help="改为每隔N分钟运行一次（报送高峰期）")
@friendly
def schedule_cmd(config_path, at, every):
    """定时汇总：常驻运行，按时执行 nightly；Ctrl+C 或 SIGTERM 在两次运行之间安全退出。

    示例：python -m toolkit schedule -c 台账 --at 02:00
    """
    settings = Workspace.open(config_path).settings
    if at:
        settings = replace(settings, schedule_at=from_dict({"schedule": {"at": at}}, settings.root, "--at").schedule_at)
    if every is not None:
        settings = replace(settings, schedule_every_minutes=every)
    setup_logging(settings)
    Scheduler(settings).serve()


@cli.command(name="serve")
@CONFIG_OPTION
@click.option("--port", "port", type=int, default=DEFAULT_PORT, show_default=True, help="本机端口（0 表示任选一个空闲端口）")
@click.option("--install", "register", flag_value="install", default=None, help="登记为随登录启动（本用户，无需管理员权限），不启动")
@click.option("--uninstall", "register", flag_value="uninstall", help="删除随登录启动的登记")
@click.option("--status", "register", flag_value="status", help="显示服务是否在运行、端口")
@friendly
def serve_cmd(config_path, port, register):
    """常驻服务：按时执行 nightly，并在本机提供浏览器控制台和按钮用的接口（只接受本机访问）。

    示例：python -m toolkit serve -c 台账 --port 8765；python -m toolkit serve -c 台账 --install
    """
    if register:
        root = Workspace.open(config_path).settings.root
        if register == "status":
            return _status(root)
        lines = autostart.install(root, port) if register == "install" else autostart.uninstall(root)
        for line in lines:
            click.echo(line)
        return
    service = Service(opener(config_path))
    settings = service.settings
    setup_logging(settings)
    server = Server(service, port=port).start()
    click.echo(f"控制台：{server.url}（令牌在 {settings.root / '.zhenggai' / 'serve.token'}）", err=False)
    sys.stdout.flush()
    try:
        Scheduler(settings, job=service.scheduled).serve()
    finally:
        server.stop()


def _status(root: Path) -> None:
    found = probe(root)
    if found["running"]:
        job = found.get("job")
        click.echo(f"服务正在运行：http://127.0.0.1:{found['port']}/（进程 {found.get('pid')}，{found.get('started')} 启动）。")
        click.echo(f"正在运行：{job['title']}（{job['started']} 开始）。" if job else "当前没有操作在运行。")
    else:
        click.echo(f"服务没有运行。{found['problem']}")
        click.echo(f"启动：python -m toolkit serve -c {root}")
    entry = autostart.installed(root)
    click.echo(f"随登录启动：已登记（{entry}）。" if entry else f"随登录启动：未登记（python -m toolkit serve -c {root} --install）。")
    if not found["running"]:
        sys.exit(3)


@cli.command(name="status")
@CONFIG_OPTION
@friendly
def status_cmd(config_path):
    """服务是否在运行、在哪个端口，是否随登录启动。

    示例：python -m toolkit status -c 台账
    """
    _status(Workspace.open(config_path).settings.root)


@cli.command()
@click.argument("target", type=click.Path(path_type=Path), default=None, required=False)
@PROFILE_OPTION
@friendly
def demo(target, profile):
    """演示：把 workbooks/demo/ 复制到 TARGET，依次分发、汇总、统计、生成通报。

    示例：python -m toolkit demo    或    python -m toolkit demo --profile 审计整改 演示审计
    """
    chosen = profiles.load(profile).name
    if chosen == profiles.DEFAULT:
        target = target or Path("workbooks/demo-run")
        workspace = Workspace(stage_demo(target))
    else:
        target = target or Path(f"workbooks/demo-{chosen}")
        workspace = Workspace(stage_profile_demo(target, chosen))
    click.echo(f"演示数据已复制到 {target.resolve()}")
    for line in workspace.run_once(distribute_first=True).lines():
        click.echo(line)


@cli.group()
def excel():
    """Excel 加载项：从 macros/ 中的文本源码生成 .xlam/.xlsm，并安装到本机 Excel。"""


@excel.command()
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path), default=Path("workbooks/addin"),
              help="输出文件夹（默认 workbooks/addin）")
@friendly
def build(out_dir):
    """生成“整改台账”加载项（.xlam）和同样宏的工作簿（.xlsm）。

    示例：python -m toolkit excel build -o workbooks/addin
    """
    for path in addin.build(out_dir):
        click.echo(f"已生成：{path}")


@excel.command()
@click.option("--dest", "dest", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="加载项复制到的文件夹（默认 Windows 的 %APPDATA%\\Microsoft\\AddIns）")
@friendly
def install(dest):
    """安装按钮（每台电脑一次）：xlwings 加载项、整改台账.xlam、受信任位置，并显示做了什么。

    示例：python -m toolkit excel install
    """
    done = addin.install(dest)
    for line in done.lines:
        click.echo(line)
    if not done.ok:
        click.echo("安装未全部完成：请按上面的提示处理后重新运行。")
        sys.exit(1)
    if done.addin:
        click.echo("安装完成。请重新打开 Excel，功能区会出现“整改台账”选项卡。")


@cli.group(name="wps")
def wps_group():
    """WPS 加载项：从 macros/wps/ 中的文本源码生成，并安装到本机 WPS（Windows 与 Linux）。"""


@wps_group.command(name="build")
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path), default=Path("workbooks/addin"),
              help="输出文件夹（默认 workbooks/addin）")
@friendly
def wps_build(out_dir):
    """生成 WPS 加载项文件夹（ribbon.xml、index.html、js/）。

    示例：python -m toolkit wps build -o workbooks/addin
    """
    click.echo(f"已生成：{wps.build(out_dir)}")


@wps_group.command(name="install")
@CONFIG_OPTION
@click.option("--dest", "dest", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="jsaddons 文件夹（默认 Windows 的 %APPDATA%\\kingsoft\\wps\\jsaddons，Linux 的 ~/.local/share/Kingsoft/wps/jsaddons）")
@click.option("--port", "port", type=int, default=None, help="服务端口（默认取正在运行的服务，或 8765）")
@friendly
def wps_install(config_path, dest, port):
    """为本机 WPS 安装“整改台账”加载项，连接该工作文件夹的服务（每个用户一次）。

    示例：python -m toolkit wps install -c 台账
    """
    done = wps.install(Workspace.open(config_path).settings.root, dest, port)
    for line in done.lines:
        click.echo(line)


@wps_group.command(name="uninstall")
@click.option("--dest", "dest", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="jsaddons 文件夹（默认按操作系统）")
@friendly
def wps_uninstall(dest):
    """删除本机 WPS 的“整改台账”加载项及其登记。

    示例：python -m toolkit wps uninstall
    """
    for line in wps.uninstall(dest):
        click.echo(line)


@cli.command()
@CONFIG_OPTION
@click.argument("measure_id", required=False, metavar="[编号]")
@click.option("--rebuild", is_flag=True, help="按归档文件重新生成变更记录")
@friendly
def history(config_path, measure_id, rebuild):
    """变更记录：打印一条措施的全部变化（--rebuild 先按归档文件重建）。

    示例：python -m toolkit history ZG-001 -c 台账
    """
    if not measure_id and not rebuild:
        raise click.UsageError("请给出措施编号，如 history ZG-001；或用 --rebuild 重建。")
    rebuilt, lines = Workspace.open(config_path).history(measure_id, rebuild)
    if rebuilt is not None:
        click.echo(f"已按归档文件重建变更记录{rebuilt}条。")
    for line in lines:
        click.echo(line)


@cli.command(name="review")
@CONFIG_OPTION
@click.argument("measure_ids", nargs=-1, required=True, metavar="编号…")
@click.option("--agree", is_flag=True, help="同意销号")
@click.option("--return", "give_back", is_flag=True, help="退回补充（须用 --opinion 写明意见）")
@click.option("--opinion", default="", help="审核意见：退回时写明需补充的材料")
@click.option("--unit", default="", help="只审核该单位的申请（也可写成 编号:单位）")
@friendly
def review_cmd(config_path, measure_ids, agree, give_back, opinion, unit):
    """销号审核：对单位已申请销号的措施同意销号或退回补充，刷新统计并记入变更记录。

    示例：python -m toolkit review ZG-004 --agree -c 台账
          python -m toolkit review ZG-004:市人民医院 --return --opinion "请补充盖章扫描件" -c 台账
    """
    if agree == give_back:
        raise click.UsageError("--agree（同意销号）与 --return（退回补充）只能选一个。" if agree else
                               "请用 --agree（同意销号）或 --return（退回补充）给出审核结论。")
    conclusion = vocab.REVIEW_APPROVE if agree else vocab.REVIEW_RETURN
    targets = [_review_target(text, unit) for text in measure_ids]
    done = Workspace.open(config_path).decide(targets, conclusion, opinion)
    for line in done.lines():
        click.echo(line)


@cli.command(name="issue")
@CONFIG_OPTION
@click.option("--unit", "units", multiple=True, help="只发出该单位的拟发文书（可重复）")
@click.option("--rung", "rungs", multiple=True, help="只发出该梯次：提醒函、督办单、告诫书、约谈/问责建议（可重复）")
@click.option("--all", "every", is_flag=True, help="发出全部拟发文书")
@click.option("--date", "on", type=click.DateTime(["%Y-%m-%d"]), default=None, help="发文日期即基准日期（默认取配置）")
@friendly
def issue_cmd(config_path, units, rungs, every, on):
    """发文：按本期拟发清单发出督办梯次文书（编号、生成 .docx/PDF 并记入变更记录）。

    示例：python -m toolkit issue -c 台账 --rung 告诫书
          python -m toolkit issue -c 台账 --unit 市人民医院
          python -m toolkit issue -c 台账 --all
    """
    done = Workspace.open(config_path).issue(list(units), list(rungs), every, on.date() if on else None)
    for line in done.lines():
        click.echo(line)


@cli.command(name="accept")
@CONFIG_OPTION
@click.argument("measure_id", metavar="编号")
@click.option("--party", required=True, type=click.Choice(vocab.ACCEPTANCE_PARTIES), help="验收方")
@click.option("--name", default="", help="验收人或单位名称（默认写验收方）")
@friendly
def accept_cmd(config_path, measure_id, party, name):
    """三方验收：记录一方（责任单位、牵头单位、整改办）对一条措施的验收；配置 [ladder] acceptance = true 时销号须三方齐全。

    示例：python -m toolkit accept ZG-001 --party 整改办 -c 台账
    """
    done = Workspace.open(config_path).accept(measure_id, party, name)
    missing = [p for p in vocab.ACCEPTANCE_PARTIES if p not in done]
    click.echo(f"已记录{party}验收。" + (f"尚缺：{'、'.join(missing)}。" if missing else "三方验收已齐全，可以销号。"))


def _review_target(text: str, unit: str) -> tuple[str, str]:
    """(编号, 单位) from “编号” or “编号:单位” (full-width colon too); --unit names the unit for a bare 编号."""
    mid, sep, named = text.replace("：", ":").partition(":")
    if sep and unit and named.strip() != unit.strip():
        raise click.UsageError(f"“{text}”中的单位与 --unit “{unit}”不一致，请只写一处。")
    return mid.strip(), (named if sep else unit).strip()


def _quiet_unraisable(unraisable) -> None:
    """A file handle that fails to close while Python tidies up (a full disk after the error was already
    reported) goes to the log, not to the console as a second, English traceback."""
    import logging
    logging.getLogger("toolkit").warning("清理时关闭文件失败：%r", unraisable.exc_value)


def main():
    sys.unraisablehook = _quiet_unraisable
    cli(prog_name="python -m toolkit")


if __name__ == "__main__":
    main()
