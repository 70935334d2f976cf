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
_TOML_CAUSES = "不符合 TOML 格式。常见原因：文字没有用英文双引号括起、用了中文引号或全角等号、同一配置项写了两次。"
_PROFILE = "配置方案 {profile}："
TEMPLATES: dict[str, str] = {
    # input: what a command or a button was asked to do does not fit
    "target-exists": "{path} 已存在，未覆盖。",
    "date-unreadable": "日期“{text}”无法识别，请写成 2024-08-31 的形式。",
    "review-no-target": "请选择要审核的措施（编号，或 编号与单位）。",
    "review-conclusion-unknown": f"审核结论“{{word}}”无法识别，请选择“{vocab.REVIEW_APPROVE}”或“{vocab.REVIEW_RETURN}”。",
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
    "again-file-missing": "找不到要重新汇总的文件 {path}。请给出归档文件夹中该文件的位置。",
    "units-not-in-ledger": "台账中没有这些责任单位：{units}。",
    "acceptance-incomplete": "措施“{measure_id}”尚未完成三方验收（缺{missing}），本次未销号。请先记录验收："
                             "python -m toolkit accept {measure_id} --party {party} -c 文件夹。",
    "review-conclusion-invalid": f"审核结论“{{word}}”无法识别，应为{'/'.join(vocab.REVIEW_CONCLUSIONS)}之一。",
    "review-return-without-opinion": f"{vocab.REVIEW_RETURN}须写明{vocab.REVIEW_OPINION}（单位需补充的材料），本次未作任何修改。",
    "review-nothing-selected": f"没有选中任何措施。请在“{vocab.SHEET_REVIEW}”表（或台账）中选中要审核的行，再操作。",
    "review-not-pending": f"以下措施没有待审核的销号申请：{{refused}}。只有“{vocab.REVIEW_STATE}”为"
                          f"“{vocab.REVIEW_PENDING}”（单位已申请销号）的行可以审核；本次未作任何修改。",
    "review-typed-conclusion-differs": f"“{vocab.SHEET_REVIEW}”表中已手工填写了尚未办理的审核结论：{{named}}，与本次“{{chosen}}”不一致。"
                                       f"请先在该表改正或清空“{vocab.REVIEW_CONCLUSION}”单元格，再操作；本次未作任何修改。",
    "request-too-long": "请求内容过长（{size}字节，上限{limit}字节）：按钮和控制台的请求不会这么长，请检查调用本服务的程序。",
    "request-not-json": "请求内容不是 JSON。",
    "request-parameter-not-list": "请求参数“{name}”应为列表（如 [\"医政处\"]），收到的是 {value}。",
    "request-parameter-not-flag": "请求参数“{name}”应为 true 或 false，收到的是 {value}。",
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
    # input: the master ledger as the office keeps it
    "ledger-missing": "找不到台账文件：{path}",
    "ledger-is-folder": "无法打开台账文件“{name}”：这是一个文件夹。请指定未加密的 .xlsx 台账文件。",
    "ledger-unopenable": "无法打开台账文件“{name}”：它不是 Excel 工作簿，或已损坏、加密。请指定未加密的 .xlsx 台账文件。",
    "ledger-sheet-not-found": f"台账“{{name}}”中没有工作表“{vocab.SHEET_LEDGER}”，也没有带台账表头的工作表（现有：{{sheets}}）。",
    "ledger-hidden-sheet-with-other-measures": "“{name}”工作表“{sheet}”是隐藏的工作表，表头与台账相同，其中{count}条措施"
                                               "（{cells}）不在读入的台账中：它不是台账的旧副本，不读入就会少算这些措施。"
                                               "如它是台账的一部分，请取消隐藏；如是不再使用的旧表，请删除它或把它移出"
                                               "台账工作簿，再运行。",
    "ledger-continuation-without-header": "“{name}”工作表“{sheet}”看来是“{base}”的续表，但{lack}，无法确定各列的含义。"
                                          "请把“{base}”的表头行复制到“{sheet}”的数据上方（各表按自己的表头读取），"
                                          "或把这些行移到“{base}”中，再运行。",
    "ledger-several-sheets-for-buttons": f"台账“{{name}}”的整改措施在工作表{{sheets}}中，按钮只能在一张“{vocab.SHEET_LEDGER}”表上"
                                         f"就地改写。请保存并关闭工作簿，运行一次“刷新统计”（python -m toolkit refresh），"
                                         f"程序会把它们合并为一张“{vocab.SHEET_LEDGER}”表，之后即可使用按钮。",
    "ledger-header-missing-columns": "{place}第{row}行表头缺少列：{missing}。请补上这些列（列名须与模板一致，常见别名见使用说明）后再试。",
    "ledger-header-not-found": "{place}前{rows}行中找不到表头（应含{columns}等列）。请确认工作表未被改名或表头未被删除。",
    "ledger-columns-repeated": "{lines}",
    "ledger-problems": "台账有{count}处需要先改正：\n{lines}",
    "ledger-problems-many": "台账有{count}处需要先改正：\n{lines}\n……另有{more}处",
    "ledger-not-xlsx": "台账“{name}”是{format}。程序写台账时生成 .xlsx 工作簿，以原名覆盖会使文件无法打开{lost}，"
                       "因此汇总、刷新统计和销号审核不写台账、不改动任何文件（体检和通报照常读取）。请用 WPS、Excel 或 "
                       "LibreOffice 打开它，“另存为”Excel 工作簿（*.xlsx），保存为“{target}”，再把 {config} 中 "
                       "[paths] 的 master 改为这个新文件后重新运行；原文件保留作存档，程序不再改动它。",
    "ledger-formulas-not-computed": "台账“{name}”工作表“{sheet}”中有{count}个公式没有保存计算结果（{cells}），"
                                    "程序不计算公式，无法知道这些单元格的值，已停止，文件未改动。请用 Excel 或 WPS "
                                    "打开该文件并保存一次（保存时会算出并存下公式的结果），或把公式换成数值后重新运行。",
    "ledger-sheet-unreadable": "台账“{name}”中的工作表“{sheet}”已损坏，无法读取；程序改写台账会丢失这张表，已停止，文件未改动。"
                               "请用 Excel 或 WPS 打开该文件（它们会提示修复），确认“{sheet}”的内容后保存；如这张表不再需要，"
                               "也可把它删除后保存，再运行。",
    "ledger-far-cells": "{what}“{name}”工作表“{sheet}”中单元格{far}有内容，使表格范围达到{span}"
                        "（{rows}行×{columns}列），远超{what}的大小；读取会耗尽内存，已停止，文件未改动。"
                        "请打开该文件，删除{far}中的内容（可按 Ctrl+End 跳到最后一个有内容的单元格）并保存后重新运行。",
    "backup-verify-failed": "台账备份 {path} 校验失败（磁盘已满或文件在备份时被改动），台账未改动。请检查磁盘空间后重新运行。",
    # input: the configuration file (config.toml) or one of its values
    "config-not-a-date": "配置项 {key} 的值“{value}”不是日期，应写成 2024-08-31 或 today。",
    "config-wrong-value": "配置项 {key} 的值“{value}”无效：应为{expected}。",
    "config-not-a-time": "配置项 {key} = “{value}”应为 HH:MM，例如 02:00。",
    "config-repeated-names": "配置项 {key} 中“{names}”出现了不止一次，每个名称只写一次（排在第一次出现的位置）。",
    "config-unsafe-period": "配置项 {key} = “{value}”不能用作文件夹名（不能含 / \\ : * ? \" < > | 或 ..，"
                            "不能以 . 开头），否则文件会写到工作文件夹之外。请写成 \"2024-08\" 这样的期次。",
    "config-paper": "配置项 {key} = “{value}”应为 \"A4\"、\"A3\" 或 \"auto\"。",
    "config-slip-placeholders": "配置项 {key} = “{value}”中只能用 {{年}}、{{月}}、{{序号}} 三个占位符，"
                                "如 \"市卫健整改督〔{{年}}〕{{序号}}号\"。",
    "config-slip-without-number": "配置项 {key} = “{value}”缺少 {{序号}}，各单位的督办单会同号，应写成如 \"〔{{年}}〕{{序号}}号\"。",
    "config-encoding": "配置文件 {path} 的编码无法识别。请用记事本打开，另存为时编码选“UTF-8”。",
    "config-missing": "找不到配置文件 {path}。可先运行 `python -m toolkit init {folder}` 生成一份。",
    "config-toml": "配置文件 {path} 第{line}行第{column}列附近" + _TOML_CAUSES,
    "config-toml-somewhere": "配置文件 {path} " + _TOML_CAUSES,
    "config-unreadable": "无法读取配置文件 {path}：{reason}。",
    "config-unknown-key": "配置中有未知的配置项 {name}。可用的有：{valid}。",
    "config-unknown-key-near": "配置中有未知的配置项 {name}。是否想写“{near}”？可用的有：{valid}。",
    "config-inbox-holds-workspace": "[paths] inbox = \"{written}\" 指向 {inbox}，其中包含{what}（{path}）。收件箱里的文件汇总后会被"
                                    "归档并删除，本工具自己的文件不能放在收件箱中。请把 inbox 改为单独的文件夹，如 inbox = \"inbox\"。",
    "config-inbox-in-written-folder": "[paths] inbox = \"{written}\" 指向 {inbox}，位于 paths.{key}（{folder}）之中。收件箱里的"
                                      "文件汇总后会被归档并删除，程序自己写入的文件（归档原件、回执、备份等）不能当作报送文件。"
                                      "请把 inbox 改为单独的文件夹，如 inbox = \"inbox\"。",
    "config-of-ledger-workspace": "{config}：{detail}",
    "config-not-near-ledger": "在台账所在文件夹及其上两级中找不到配置文件 {config}。"
                              "请运行 python -m toolkit init 生成，并把台账放在 master 文件夹中。",
    "review-not-enabled": "销号审核未启用。如需启用，请在 {config} 中写入 [review] required = true。{waiting}",
    "signing-key-damaged": "模板签名密钥文件 {path} 已损坏。请从备份恢复该文件；如无备份，删除它后重新分发本期模板"
                           "（此前下发的模板将不再被接受）。",
    # input: a configuration scheme (配置方案: a built-in profile or the office's own TOML) is malformed
    "profile-words-not-table": _PROFILE + "[{key}] 应为一节“用语 = 规范用语”。",
    "profile-word-target": _PROFILE + "[{key}] 中“{word}” = “{target}”：应为{canonical}之一。",
    "profile-word-is-canonical": _PROFILE + "[{key}] 中“{word}” = “{target}”：“{word}”本身是规范用语，不能改指“{target}”。"
                                            "请删去这一行，或把台账中的这个用语改成“{target}”。",
    "profile-alias-taken": _PROFILE + "[headers] 中“{name}”的别名“{alias}”已是“{other}”列的列名或别名：一个列名只能对应一列，"
                                      "请删去或改写这个别名。",
    "profile-toml": _PROFILE + "不符合 TOML 格式（{detail}）。",
    "profile-unknown-key": _PROFILE + "未知的配置项“{key}”。",
    "profile-unknown-key-near": _PROFILE + "未知的配置项“{key}”。是否想写“{near}”？",
    "profile-missing-text": _PROFILE + "缺少 {key}（文字，用英文双引号括起）。",
    "profile-headers": _PROFILE + "[headers] 应写成 规范列名 = [\"别名\", …]，规范列名为{columns}之一。",
    "profile-hierarchy": _PROFILE + "[hierarchy] optional 只能列{columns}，defaults 只能给 optional 中的列。",
    "profile-hierarchy-defaults": _PROFILE + "[hierarchy] 可省略的“重点问题”“事项”须在 defaults 中给出默认值，否则统计无法按层级计数。",
    "profile-wording-not-table": _PROFILE + "[wording] 应为一节“用语名 = \"本清单的说法\"”。",
    "profile-wording-unknown": _PROFILE + "[wording] 中未知的用语名“{key}”。可用的有：{names}。",
    "profile-wording-unknown-near": _PROFILE + "[wording] 中未知的用语名“{key}”。是否想写“{near}”？可用的有：{names}。",
    "profile-wording-not-text": _PROFILE + "[wording] 中“{key}”应为文字（用英文双引号括起）。",
    "profile-wording-grouping": _PROFILE + f"[wording] 中“分类依据”应为{'、'.join(vocab.NOTICE_GROUPINGS)}之一（按事项类别或按重点问题分类）。",
    "profile-file-missing": "配置项 profile = “{name}”：找不到配置方案文件 {path}。",
    "profile-unknown": "配置项 profile = “{name}”不是内置的配置方案。可用的有：{names}；"
                       "也可写本单位配置方案文件的路径，如 profile = \"本单位方案.toml\"。",
    "profile-unknown-near": "配置项 profile = “{name}”不是内置的配置方案。是否想写“{near}”？可用的有：{names}；"
                            "也可写本单位配置方案文件的路径，如 profile = \"本单位方案.toml\"。",
    "inbox-shared": "{why}。收件箱里的文件汇总后会被归档并删除，本次未做任何改动。请在 {config} 的 [paths] inbox 中改用本工作区自己的收件箱。",
    "folder-claimed": "{word} {folder} 已被另一个工作区使用（其配置文件：{other}）。两个工作区共用{word}会互相删除或覆盖文件，"
                      "本次未做任何改动。请在 {config} 的 [paths] {key} 中改用本工作区自己的{word}；"
                      "若另一个工作区已不再使用，请删除标记文件 {marker} 后重试。",
    # environment: a program, a folder or a file of the machine is missing, busy or damaged
    "outside-excel": "这个功能需要在 Excel 中通过“整改台账”选项卡的按钮运行；在命令行中请使用 python -m toolkit 的相应命令。",
    "opinion-garbled": "审核意见传递出错，请重新输入（或在命令行使用 python -m toolkit review）。",
    "startup-folder-unknown": "找不到 %APPDATA%，无法确定“启动”文件夹。",
    "wps-folder-unknown": "找不到 %APPDATA%，无法确定 WPS 加载项文件夹。请用 --dest 指定 jsaddons 文件夹。",
    "soffice-missing": "未安装 LibreOffice（soffice），无法转换文件。请运行 scripts/install_system_deps.sh。",
    "soffice-failed": "LibreOffice 转换失败（{missing}）：{detail}",
    "ms-ovba-missing": "缺少 ms-ovba，无法从源码生成 VBA 工程。请运行：pip install -e .[excel]",
    "addin-locked": "无法写入 {path}（{detail}）：Excel 可能正打开着它。请关闭 Excel 后重新运行 python -m toolkit excel install。",
    "run-locked": "另一个操作（汇总、分发或生成通报）正在运行，已等待{seconds:g}秒仍未结束（锁文件 {lock}）。请稍后再试。",
    "file-open-elsewhere": "{reason}，已等待{seconds:.0f}秒，本次未写入任何文件。请关闭该文件后重新运行。",
    "history-busy": f"变更记录数据库“{vocab.HISTORY_DB}”被其他程序占用（如打开着它的数据库查看工具），"
                    f"请关闭该程序后重新运行（数据库本身无需处理）。",
    "history-unwritable": "无法写入变更记录数据库：{reason}。请清理磁盘或检查文件夹权限后重试。",
    "history-damaged-in-run": f"变更记录数据库“{vocab.HISTORY_DB}”在运行中读写出错（{{detail}}），可能已损坏。"
                              f"下次运行时会把它原样移到一旁并按归档文件重建；也可运行 `python -m toolkit history --rebuild`。",
    "history-notice-unreadable": "变更记录数据库“{db}”中已发文记录“{rung} {number}”（措施{measure}）的日期“{day}”或"
                                 "期限“{due}”不是“2024-08-20”这样的写法，本次运行不计这一条（其余发文记录照常使用）。"
                                 "请用数据库工具把它改为这样的写法，或删除这条记录",
    "history-no-first-backup": "备份文件夹“{folder}”中找不到台账的最早备份，无法确定初始状态，不能重建变更记录。",
    "history-archived-missing": "归档文件“{path}”不存在（报送记录：{unit}，{received}），无法重建变更记录。请从备份恢复该文件后重试。",
    "history-archived-altered": "归档文件“{name}”的内容与报送记录中的哈希不一致，可能被改动过。请从备份恢复原件后重试。",
    "history-unknown-measure": f"变更记录中没有措施“{{measure_id}}”。请核对编号（见台账“{vocab.ID}”列）。",
    "history-unopenable": "无法打开变更记录数据库 {path}：{reason}。请把占据该位置的文件夹移走或检查"
                          "所在文件夹的权限后重试（数据库本身无需处理）。",
    "history-db-unwritable": "无法写入变更记录数据库 {path}：{reason}。请清理磁盘或检查文件夹权限后重试（数据库本身无需处理）。",
    "service-busy": "{detail}",
    "port-unavailable": "无法在 {host}:{port} 上启动服务：{reason}。端口可能已被占用，请用 --port 指定另一个端口（如 --port {next_port}）。",
    "file-operation-failed": "{detail}",
    "master-changed-meanwhile": "台账 {path} 在本次读取之后被改动（可能有另一个工作区或程序同时写入），为免覆盖该改动，"
                                "本次未写入台账，收件箱中的文件原样保留。请确认只有一个工作区使用该台账后重新运行。",
    "register-damaged": "督办编号登记文件 {path} 已损坏，无法读取。请从备份恢复该文件；删除它会使督办单重新编号。",


    # ---- a unit's submitted file (intake): what is wrong, located by the problem; its fix is in FIXES.
    # The file as a whole: it is not a workbook we can read
    "file-other-archive": "文件是{format}压缩包，本工具只能拆开 .zip 压缩包",
    "file-empty": "文件是空的（0字节），可能在传输中损坏",
    "file-too-large": "文件过大（{size_mb:.1f}MB，上限{limit_mb:g}MB）",
    "file-encrypted": "文件设置了打开密码（已加密），无法读取",
    "file-ole-not-workbook": "文件不是Excel工作簿（可能是Word文档或其他文件改了扩展名）",
    "file-pdf": "文件不是Excel工作簿（看起来是PDF文件）",
    "file-not-workbook": "文件不是Excel工作簿（看起来是文本或其他文件）",
    "file-damaged": "文件已损坏（压缩包不完整，可能下载或复制时中断），无法打开",
    "file-unzipped-too-large": "文件解压后过大（{unzipped_mb:.0f}MB），疑似异常文件，未予读取",
    "file-word-document": "文件是Word文档，不是Excel工作簿",
    "file-no-workbook-part": "文件已损坏或不是Excel工作簿（找不到工作簿内容）",
    "file-unreadable": "文件无法读取（格式损坏或已加密）",
    "file-no-read-permission": "文件无法读取（没有读取该文件的权限）",
    "file-read-failed": "读取文件时出错（{error}），文件可能构造异常",
    "file-reader-crashed": "读取文件时读取程序意外退出，文件可能已损坏或构造异常",
    "file-reader-timeout": "读取文件超过{seconds:g}秒仍未完成，文件可能构造异常，已停止读取",
    "sheet-far-cells": "工作表“{sheet_name}”中单元格{far}有内容，使表格范围达到{span}（{rows}行×{columns}列），远超模板的大小，未予读取",
    # the file is a workbook, but not the template this office issued to this unit for this period
    "template-info-missing": f"缺少模板信息（隐藏工作表“{vocab.SHEET_META}”），不是本期下发的模板",
    "template-info-unreadable": "模板信息无法读取",
    "template-version": "模板版本为“{version}”，本期要求“{required}”",
    "template-unsigned": "模板没有办公室的签名（是旧版模板，或不是办公室下发的模板）",
    "template-signature": "模板签名不符，不是本办公室下发的模板（可能是按台账内容自行制作的表格，或模板信息被改动）",
    "template-unit-unknown": "模板中的填报单位“{unit}”不是台账中的责任单位",
    "template-other-unit": "文件名表明报送单位是“{named}”，但文件是下发给“{unit}”的模板",
    "template-period": "模板的报送期次为“{found}”，本期为“{period}”",
    "ledger-sheet-missing": "找不到工作表“{sheet_name}”",
    "ledger-sheet-too-long": "工作表有{rows}行，远超本单位的{planned}条措施",
    "header-columns-missing": "表头缺少列：{missing}（可能被改名、删除或合并了单元格）",
    "header-not-found": f"找不到表头（应含“{vocab.ID}”“{vocab.MEASURE}”等列）",
    # a package (.zip) or a folder sent whole, with the workbook and its evidence
    "package-too-large": "压缩包过大（上限{limit_mb}MB）",
    "package-damaged": "压缩包已损坏，无法打开",
    "package-too-many-files": "{container}中有{count}个文件，超过上限{limit}个",
    "package-bomb": "压缩包解压后过大或压缩比异常（{count}个文件，共{unpacked_mb:.0f}MB，上限{limit_mb}MB、压缩比{ratio}倍），疑似异常文件",
    "package-without-workbook": "{container}最外层没有找到填报的工作簿，只有{count}个其他文件",
    "package-workbooks": "{container}最外层应有且只有一个填报的工作簿，没有找到",
    "package-several-workbooks": "{container}最外层应有且只有一个填报的工作簿，发现{found}",
    "package-workbook-size": "压缩包中工作簿的实际大小与声明不符",
    "package-workbook-damaged": "压缩包中的工作簿已损坏或无法解压（解压时校验不符或数据不完整，可能下载或复制时中断）",
    "folder-too-deep": "文件夹层级过深（超过{limit}层，如“{path}”）",
    "folder-too-large": "文件夹过大（共{size_mb:.0f}MB，上限{limit_mb}MB）",
    "folder-no-read-permission": "文件夹中的“{path}”没有读取权限",
    # one row of the unit's sheet: only that row (or that cell) is refused
    "row-id-empty": "编号为空",
    "row-id-repeated": "编号“{measure_id}”与第{first_row}行重复",
    "row-id-unknown": "编号“{measure_id}”在台账中不存在",
    "row-not-own-measure": "措施“{measure_id}”不属于{unit}（牵头单位为{lead}）",
    "row-not-in-template": "措施“{measure_id}”不在下发给本单位的模板中（模板外新增的行）",
    "row-locked-changed": "锁定的任务内容被改动（{changed}）",
    "row-locked-mismatch": "锁定的任务内容被改动（与下发模板不一致）",
    "status-unknown": "“{value}”不是有效的完成情况",
    "status-empty": "完成情况为空",
}


_RESEND = "请用下发的模板重新填写并保存为 .xlsx 后报送"
_PACKAGE = ("请把填好的工作簿和佐证材料重新打包为 .zip（在压缩软件中选择“ZIP”格式）后报送；"
            "也可以先只报送填好的 .xlsx 工作簿")
_ROW_SKIPPED = "本行未汇总；"
_STATUS_KEPT = "该格未采纳（本行进展等文字已采纳，完成情况保持原值"

# ---- what a unit (or the office) is to do about each problem in a submitted file: the kind's own fix, or a shared
# one the problem names (fix_kind: the same trouble in a file that came as a package or a folder is fixed otherwise)
FIXES: dict[str, str] = {
    "resend": _RESEND,
    "resend-package": _PACKAGE,
    "package": "请把填报的工作簿放在压缩包最外层、佐证材料按编号分文件夹放好，重新打包为 .zip 后报送",
    "folder": "请把填报的工作簿放在文件夹最外层、佐证材料按编号分文件夹放好后，重新报送整个文件夹",
    "count": "请每项措施只附必要的佐证材料（多张照片可合成一个PDF），使文件总数不超过{limit}个后重新报送",
    "file-other-archive": _PACKAGE,
    "file-too-large": "请删除嵌入的图片等附件后重新报送，佐证材料另行提交",
    "file-encrypted": "请取消密码（文件→信息→保护工作簿→用密码进行加密，清空密码）后重新报送未加密的副本",
    "file-no-read-permission": "请报送单位重新发送，或由办公室调整文件权限后重新汇总",
    "sheet-far-cells": "请删除{far}等表格右侧和下方多余的内容（或将有内容的区域复制到下发的模板中）后重新报送",
    "template-info-missing": "请使用办公室下发的本单位模板填写，不要复制内容到新建的工作簿",
    "template-info-unreadable": "请使用办公室下发的本单位模板重新填写",
    "template-version": "请下载本期模板重新填写",
    "template-unsigned": "请使用本期下发的模板填写后重新报送",
    "template-signature": "请使用办公室下发给本单位的本期模板填写后重新报送",
    "template-unit-unknown": "请使用办公室下发的本单位模板；如是该单位在台账中改了名，办公室可在配置[units]中写 "
                             "\"{unit}\" = \"新名称\" 后重新汇总此文件",
    "template-other-unit": "请{named}使用本单位的模板填写后重新报送",
    "template-period": "请使用本期下发的模板填写",
    "ledger-sheet-missing": "请勿改动工作表名称，使用下发的模板重新填写",
    "ledger-sheet-too-long": "请删除多余的行后重新报送",
    "header-columns-missing": "请勿改动表头，使用下发的模板重新填写",
    "header-not-found": "请勿删除表头，使用下发的模板重新填写",
    "package-without-workbook": "请把填报的工作簿和全部佐证材料放在同一个{container}中重新报送（如果是上次报送的{container}"
                                "复制时未复制完、其余部分后到，请把整个{container}重新报送一次）",
    "folder-too-large": "请压缩过大的照片或扫描件，使文件夹总大小不超过{limit_mb}MB后重新报送",
    "row-id-empty": _ROW_SKIPPED + "请勿新增行，如需补充措施请与办公室联系",
    "row-id-repeated": "重复行未汇总；请删除重复的行",
    "row-id-unknown": _ROW_SKIPPED + "请勿新增或改动编号",
    "row-not-own-measure": _ROW_SKIPPED + "只能填报本单位负责的措施",
    "row-not-in-template": _ROW_SKIPPED + "请勿新增行",
    "row-locked-changed": _ROW_SKIPPED + "请勿改动锁定列，如任务需调整请书面报办公室",
    "row-locked-mismatch": _ROW_SKIPPED + "请勿改动锁定列，如任务需调整请书面报办公室",
    "status-unknown": _STATUS_KEPT + "）；请从下拉列表选择：{statuses}",
    "status-unknown-hinted": _STATUS_KEPT + "）；如指“{hint}”，请填写“{hint}”；其他情况请从下拉列表选择：{statuses}",
    "status-empty": _STATUS_KEPT + "“{kept}”）；请从下拉列表选择：{statuses}",
}


def render(kind: str, params: Mapping[str, object]) -> str:
    """The sentence of one problem kind with its parameters (a list joined with 、, an empty one 无);
    KeyError for a kind without words."""
    shown = {k: _joined(k, v) if isinstance(v, (list, tuple)) else v for k, v in params.items()}
    return TEMPLATES[kind].format(**shown)


def _joined(name: str, value: list[object] | tuple[object, ...]) -> str:
    """A list parameter as words: lines one a line, others joined with 、 (无 if empty)."""
    return "\n".join(map(str, value)) if name == "lines" else "、".join(map(str, value)) or "无"


def render_fix(code: str, params: Mapping[str, object]) -> str:
    """What to do about a problem in a submitted file (its kind's fix, or the shared one it names), with its parameters;
    the general advice (resend on the issued template) for a kind without a fix of its own."""
    shown = {k: "、".join(map(str, v)) or "无" if isinstance(v, (list, tuple)) else v for k, v in params.items()}
    return FIXES.get(code, _RESEND).format(**shown)


def guidance(family: str) -> str:
    """The line that tells a user what kind of trouble this is and what to do next."""
    return GUIDANCE.get(family, "")
