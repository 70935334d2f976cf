"""The Chinese words of every problem kind (one table: kind code → template) and of each problem family's
guidance, so the core raises data and the CLI, the Excel buttons, the run report and the service render it here."""
from __future__ import annotations

from collections.abc import Mapping

from . import vocab

# ---- the two families: the user's file or settings are wrong, or the machine is in the way
INPUT = "input"
ENVIRONMENT = "environment"

GUIDANCE = {
    INPUT: "这是文件或设置内容的问题：请按说明修改后重新运行（单位报送的文件请修改后重新报送）。",
    ENVIRONMENT: "这是运行环境的问题，文件内容本身没有错：请检查磁盘空间、文件夹权限、文件是否被其他程序打开、"
                 "所需程序是否已安装，处理后重试。",
}

# ---- problem kinds. A template names its parameters in braces; a list parameter is joined with 、.
# Kinds without a template here (the class-level ones such as "config" or "ledger") carry the sentence
# their raise site wrote; new kinds go here.
TEMPLATES: dict[str, str] = {
    # input: what a command or a button was asked to do does not fit
    "target-exists": "{path} 已存在，未覆盖。",
    "profile-on-existing-workspace": "{path} 已存在，--profile 只在新建工作区时使用；要改用其他配置方案，请修改该文件中的 profile 一行。",
    "demo-target-not-empty": "{target} 不是空文件夹，也不是之前的演示目录。为免删除其中的文件，演示未运行；"
                             "请指定一个新的或空的文件夹，例如 {example}。",
    "profile-without-demo": "配置方案“{profile}”没有演示数据；有演示数据的是：审计整改、督查督办、责任清单、民主生活会整改（默认方案直接运行 demo）。",
    "inbox-not-consolidated": "收件箱中还有{count}个文件尚未汇总（如 {first}），其单位可能已经报送。请先汇总，再生成催报。",
    "unknown-acceptance-party": "验收方“{party}”不对，应为{choices}之一。",
    "unknown-measure": f"台账 {{master}} 中没有措施“{{measure_id}}”。请核对编号（见台账“{vocab.ID}”列）。",
    "unknown-notice-kind": "未知的通报类型：{unknown}（可选：{choices}）。",
    "unknown-rung": "没有“{word}”这个督办梯次。可选：{choices}。",
    "ladder-issue-unspecified": "请指明发出哪些拟发文书：--unit 单位、--rung 梯次（如 告诫书），或 --all 发出全部拟发。",
    "ladder-unit-without-proposal": "单位“{unit}”本期没有拟发文书（有拟发的单位：{known}）。"
                                    "请核对单位名称，或先运行汇总更新拟发清单。",
    "review-selection": f"请先在“{vocab.SHEET_REVIEW}”表（或“{vocab.SHEET_LEDGER}”表）中选中要审核的措施所在的行，"
                        f"再点按钮（当前选中的是“{{sheet}}”表）。",
    # input: a template, an add-in source or a registration file the office keeps is malformed
    "template-undefined-variable": "模板“{name}”使用了未提供的变量：{detail}。可用变量见 templates/README.md。",
    "template-not-found": "找不到模板“{name}”（模板文件夹：{folder}）。",
    "template-syntax": "模板“{name}”第{line}行语法有误：{detail}",
    "template-error": "模板“{name}”出错：{detail}",
    "dashboard-template": "看板模板“看板.html.j2”有误：{detail}",
    "vba-string-escape": "VBA 字符串中不能出现 \\u（会被当作转义）：{literal}",
    "vba-chinese-outside-string": "VBA 源码第{line}行：中文只能写在字符串中（注释用英文）。",
    "addin-sources-missing": "{folder} 中缺少 .bas 模块或 customUI.xml。",
    "ribbon-malformed": "customUI.xml 格式有误：{detail}",
    "ribbon-root": "customUI.xml 的根元素须为 {namespace} 命名空间中的 customUI（Office 2010 及以上）。",
    "ribbon-duplicate-id": "customUI.xml 中控件 id 重复：{ids}",
    "ribbon-missing-macro": "功能区按钮调用的宏不存在：{names}",
    "ribbon-callback-signature": "功能区回调须为 Public Sub 名称（control As IRibbonControl）：{names}",
    "macro-unknown-function": "宏调用了 toolkit.excel 中不存在的函数：{names}",
    "wps-ribbon-malformed": "WPS 加载项的 ribbon.xml 有误：{detail}",
    "wps-ribbon-missing-function": "WPS 加载项功能区调用的函数不存在：{names}（见 js/ribbon.js）",
    "wps-ribbon-duplicate-id": "WPS 加载项的 ribbon.xml 中控件 id 重复。",
    "wps-ribbon-declaration": "WPS 加载项的 ribbon.xml 须以 <customUI 开头（WPS 的发布页把开头的 XML 声明或注释视为无效）。",
    "wps-manifest-malformed": "WPS 加载项的 manifest.xml 有误：{detail}",
    "wps-manifest-name": "WPS 加载项的 manifest.xml 中 <Name> 应为 {expected}（现为 {found}）。",
    "wps-publish-malformed": "{path} 格式有误（{detail}），为免破坏其他加载项的登记，未改动它。请修正或删除后重试。",
    # environment: a program, a folder or a file of the machine is missing, busy or damaged
    "outside-excel": "这个功能需要在 Excel 中通过“整改台账”选项卡的按钮运行；在命令行中请使用 python -m toolkit 的相应命令。",
    "opinion-garbled": "审核意见传递出错，请重新输入（或在命令行使用 python -m toolkit review）。",
    "startup-folder-unknown": "找不到 %APPDATA%，无法确定“启动”文件夹。",
    "wps-folder-unknown": "找不到 %APPDATA%，无法确定 WPS 加载项文件夹。请用 --dest 指定 jsaddons 文件夹。",
    "soffice-missing": "未安装 LibreOffice（soffice），无法转换文件。请运行 scripts/install_system_deps.sh。",
    "soffice-failed": "LibreOffice 转换失败（{missing}）：{detail}",
    "ms-ovba-missing": "缺少 ms-ovba，无法从源码生成 VBA 工程。请运行：pip install -e .[excel]",
    "addin-locked": "无法写入 {path}（{detail}）：Excel 可能正打开着它。请关闭 Excel 后重新运行 python -m toolkit excel install。",
    "register-damaged": "督办编号登记文件 {path} 已损坏，无法读取。请从备份恢复该文件；删除它会使督办单重新编号。",
}


def render(kind: str, params: Mapping[str, object]) -> str:
    """The sentence of one problem kind with its parameters (a list joined with 、, an empty one 无);
    KeyError for a kind without words."""
    shown = {k: "、".join(map(str, v)) or "无" if isinstance(v, (list, tuple)) else v for k, v in params.items()}
    return TEMPLATES[kind].format(**shown)


def guidance(family: str) -> str:
    """The line that tells a user what kind of trouble this is and what to do next."""
    return GUIDANCE.get(family, "")
