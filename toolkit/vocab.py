"""The ledger's vocabulary: headers, status words, deadline words, categories, sheet names.

Every module imports these names; no other module spells a header or a status word.
"""
from __future__ import annotations

# ---- master ledger columns (order = order in every workbook we write) ----
ID = "编号"
THEME = "主题"
KEY_PROBLEM = "重点问题"
ITEM = "事项"
ITEM_TYPE = "事项类型"
REFORM = "推动改革促进发展"
MEASURE = "整改措施"
LEADER = "责任领导"
LEAD_UNIT = "牵头单位"
CO_UNITS = "配合单位"
DEADLINE = "完成时限"
STATUS = "完成情况"
PROGRESS = "整改进展"
EVIDENCE = "佐证材料"
REMARK = "备注"
AMOUNT = "整改金额"      # 万元; a list's own column (审计整改): written only in ledgers that have it

# The columns every ledger carries, in sheet order (model.LEDGER_COLUMNS declares each, AMOUNT too).
COLUMNS = [ID, THEME, KEY_PROBLEM, ITEM, ITEM_TYPE, REFORM, MEASURE, LEADER,
           LEAD_UNIT, CO_UNITS, DEADLINE, STATUS, PROGRESS, EVIDENCE, REMARK]
# Planned by the office, locked in unit workbooks; a unit changing one is tampering.
LOCKED_COLUMNS = COLUMNS[: COLUMNS.index(DEADLINE) + 1]
# What a unit may fill in.
UNIT_COLUMNS = [STATUS, PROGRESS, EVIDENCE, REMARK]
TEXT_COLUMNS = [PROGRESS, EVIDENCE, REMARK]

# Columns the toolkit computes (formulas / helper dates) right of the data columns.
DUE_DATE = "考核日期"        # the date the deadline means (立行立改 → programme start)
REMIND_FROM = "提醒起始日"    # N working days before the due date
DAYS_OVERDUE = "逾期天数"     # live formula against the reference date
HELPER_COLUMNS = [DUE_DATE, REMIND_FROM, DAYS_OVERDUE]

# ---- status words, least advanced first ----
DONE = "已完成"
MOSTLY_DONE = "基本完成"
IN_PROGRESS = "正在推进"
NOT_STARTED = "未启动"
STATUSES = [DONE, MOSTLY_DONE, IN_PROGRESS, NOT_STARTED]
STATUS_RANK = {NOT_STARTED: 0, IN_PROGRESS: 1, MOSTLY_DONE: 2, DONE: 3}
OVERDUE = "逾期"                  # past its due date and not 已完成
DUE_SOON = "临期"                 # due within the reminder window (config remind_working_days)

STATUS_SYNONYMS = {
    "完成": DONE, "已完成": DONE, "已完成整改": DONE, "已整改": DONE, "整改完成": DONE,
    "已办结": DONE, "办结": DONE, "已落实": DONE, "完成整改": DONE,
    "基本完成": MOSTLY_DONE, "基本完成整改": MOSTLY_DONE, "基本整改": MOSTLY_DONE,
    "正在推进": IN_PROGRESS, "推进中": IN_PROGRESS, "正在整改": IN_PROGRESS,
    "整改中": IN_PROGRESS, "进行中": IN_PROGRESS, "持续推进中": IN_PROGRESS,
    "未启动": NOT_STARTED, "未开始": NOT_STARTED, "尚未启动": NOT_STARTED,
    "正在推进中": IN_PROGRESS, "推进中的": IN_PROGRESS, "正在进行": IN_PROGRESS, "持续推进": IN_PROGRESS,
    "整改推进中": IN_PROGRESS, "已基本完成": MOSTLY_DONE, "基本完成中": MOSTLY_DONE, "基本整改完成": MOSTLY_DONE,
    "已全部完成": DONE, "全部完成": DONE, "已完成整改工作": DONE, "已整改完成": DONE, "完成100%": DONE,
    "暂未启动": NOT_STARTED, "未推进": NOT_STARTED, "尚未开始": NOT_STARTED,
}
# A typed percentage ("完成80%", "80%"): 100 → 已完成, anything less → 正在推进 (0 → 未启动).
STATUS_PERCENT_PREFIXES = ["已完成", "完成", "完成了", "进度", "完成进度", "已推进", ""]

# ---- header variants an office uses (after removing spaces, line breaks and quotes) ----
HEADER_ALIASES = {
    ID: ["编号", "措施编号", "序号编号", "整改编号"],
    THEME: ["主题", "问题主题", "反馈问题主题", "方面"],
    KEY_PROBLEM: ["重点问题", "重点问题名称", "反馈重点问题"],
    ITEM: ["事项", "具体问题", "问题事项", "整改事项", "具体问题/举一反三事项", "问题", "问题清单"],
    ITEM_TYPE: ["事项类型", "问题类型", "类型", "事项类别"],
    REFORM: ["推动改革促进发展", "是否推动改革促进发展", "推动改革促进发展事项", "推动改革"],
    MEASURE: ["整改措施", "措施", "具体措施", "整改措施内容"],
    LEADER: ["责任领导", "分管领导", "牵头领导", "责任委领导"],
    LEAD_UNIT: ["牵头单位", "责任单位", "牵头部门", "责任部门", "牵头处室", "牵头单位（部门）"],
    CO_UNITS: ["配合单位", "配合部门", "协同单位", "配合处室"],
    DEADLINE: ["完成时限", "完成时间", "整改时限", "整改期限", "时限", "完成期限"],
    STATUS: ["完成情况", "整改状态", "完成状态", "整改完成情况", "状态"],
    PROGRESS: ["整改进展", "进展情况", "整改进展情况", "工作进展", "整改情况"],
    EVIDENCE: ["佐证材料", "佐证", "证明材料", "佐证材料名称"],
    REMARK: ["备注"],
    AMOUNT: ["整改金额", "整改金额（万元）", "整改金额(万元)", "应整改金额", "应整改金额（万元）", "问题金额（万元）"],
}
ROW_NUMBER = "序号"   # a row number: the id only when the sheet has no 编号 column
# Columns an office ledger may leave out (filled with blanks).
OPTIONAL_COLUMNS = [EVIDENCE, REMARK, CO_UNITS, LEADER, REFORM]
# Hierarchy columns whose vertically merged cells mean "the same for every row below".
MERGE_FILL_COLUMNS = [THEME, KEY_PROBLEM, ITEM, ITEM_TYPE, REFORM, LEADER, LEAD_UNIT]
HEADER_QUOTES = "“”\"'‘’「」『』《》"

# ---- deadline words ----
LONG_TERM = "长期坚持"
ONGOING = "持续推进"
IMMEDIATE = "立行立改"
LONG_TERM_WORDS = [LONG_TERM, ONGOING]

# ---- item types and categories ----
SPECIFIC = "具体问题"
DRAW_LESSONS = "举一反三"
RECOMMENDATION = "整改意见"
ITEM_TYPES = [SPECIFIC, DRAW_LESSONS, RECOMMENDATION]
CATEGORY_KEY = "重点问题整改"
CATEGORIES = [CATEGORY_KEY, DRAW_LESSONS, REFORM, RECOMMENDATION]
YES = "是"
ITEM_TYPE_SYNONYMS = {"具体问题": SPECIFIC, "问题": SPECIFIC, "反馈问题": SPECIFIC, "举一反三": DRAW_LESSONS,
                      "举一反三事项": DRAW_LESSONS, "举一反三问题": DRAW_LESSONS, "整改意见": RECOMMENDATION,
                      "巡视整改意见": RECOMMENDATION, "巡视意见": RECOMMENDATION, "意见建议": RECOMMENDATION}
# 推动改革促进发展 marks: yes / no (compared after removing spaces and quotes).
REFORM_YES = [YES, "Y", "YES", "1", "√", "✓", "✔", "★", "☆", "●", "○", "*", "推动改革", "推动改革促进发展",
              "属于", "是的", "T", "TRUE", "对"]
REFORM_NO = ["", "否", "N", "NO", "0", "×", "✗", "-", "—", "/", "无", "不是", "F", "FALSE"]

# ---- sheet names ----
SHEET_LEDGER = "整改台账"
SHEET_OWNERS = "单位填报明细"
SHEET_JUDGMENT = "问题研判"
SHEET_STATS = "整改进度统计"
SHEET_OVERDUE = "逾期清单"
SHEET_HISTORY = "历史进度"
SHEET_LOG = "报送记录"
SHEET_PARAMS = "参数"
JUDGMENT = "办公室研判"            # the column of 问题研判 where the office sets a problem's status
SHEET_META = "模板信息"
SHEET_DECISIONS = "办公室认定"    # the office's own 完成情况 for a measure, kept over the units' roll-up          # hidden sheet in unit workbooks

# Defined name of the reference date cell that conditional formatting compares with.
NAME_REF_DATE = "基准日期"

# ---- unit workbook metadata keys (hidden sheet 模板信息) ----
META_UNIT = "填报单位"
META_PERIOD = "报送期次"
META_VERSION = "模板版本"
META_FINGERPRINT = "锁定内容指纹"
META_SIGNATURE = "模板签名"           # keyed signature of unit, period and row fingerprints
META_CREATED = "生成时间"
TEMPLATE_VERSION = "ZG-1"

# ---- owner sheet columns ----
OWNER_UNIT = "单位"
OWNER_ROLE = "角色"
ROLE_LEAD = "牵头"
ROLE_CO = "配合"
SUBMITTED_AT = "报送时间"
OWNER_COLUMNS = [ID, OWNER_UNIT, OWNER_ROLE, STATUS, PROGRESS, EVIDENCE, REMARK, SUBMITTED_AT]
OFFICE_STATUS = "办公室认定"      # the measure's status as the office set it (blank: none)
COUNTED_STATUS = "计入状态"       # what the statistics count: the office's status, else the unit's own
OWNER_VIEW_COLUMNS = OWNER_COLUMNS + [OFFICE_STATUS, COUNTED_STATUS]
DECISION_COLUMNS = [ID, MEASURE, OFFICE_STATUS, "原状态", "单位汇总状态", "认定时间"]

# ---- submission log columns ----
LOG_COLUMNS = ["报送期次", "单位", "收件时间", "原文件名", "归档文件", "内容哈希", "结果", "采纳行数", "问题数"]

SCOPE_OVERALL, SCOPE_CATEGORY, SCOPE_UNIT = "总体", "类别", "单位"   # 历史进度 范围
HISTORY_COLUMNS = ["报送期次", "统计日期", "范围", "名称", "总数", "已完成", "基本完成", "正在推进", "未启动", "逾期", "完成率"]
PARAM_DIGEST = "内容摘要"
PARAM_SEQUENCE = "记录序号"        # the master's write counter: orders decisions, requests and backups
PARAM_REF_DATE = "基准日期"

CO_UNIT_SEPARATORS = "、,，;；/ \n"
# Names that stand for a group of units, not a unit: they need a [units] mapping in config.
COLLECTIVE_UNIT_WORDS = ["委属各单位", "各处室", "相关单位", "有关单位", "各单位", "相关处室", "有关处室",
                         "各区卫生健康局", "各区卫生健康委", "各区", "委机关各处室", "各医疗机构", "相关部门",
                         "有关部门", "各部门", "各直属单位", "全体", "所有单位"]
COLLECTIVE_UNIT_PREFIXES = ("各", "相关", "有关", "全体", "所有")
COLLECTIVE_UNIT_SUFFIXES = ("等单位", "等部门", "等处室", "等")      # 市人民医院等, or 等 alone: and others unnamed
# A role written beside a unit name (医政处（牵头）, 人事处(配合)): the role, not part of the name.
UNIT_ROLE_WORDS = {"牵头": ROLE_LEAD, "牵头单位": ROLE_LEAD, "主责": ROLE_LEAD, "主责单位": ROLE_LEAD,
                   "主办": ROLE_LEAD, "主办单位": ROLE_LEAD, "配合": ROLE_CO, "配合单位": ROLE_CO,
                   "协办": ROLE_CO, "协办单位": ROLE_CO, "协助": ROLE_CO, "参与": ROLE_CO}
UNIT_ROLE_BRACKETS = "()[]【】〔〕<>《》"      # as they read after NFKC (（） become ())
# How unit names end; a short name ending otherwise (李某, 张三) is more likely a person than a unit.
UNIT_NAME_ENDINGS = ("处", "室", "科", "局", "委", "院", "中心", "站", "所", "部", "办", "会", "队", "组", "馆", "校",
                     "司", "团", "厂", "社", "台", "厅", "署", "股", "区", "县", "市", "街道", "镇", "乡", "村",
                     "单位", "机构", "医院", "党委", "支部", "学会", "协会", "基地", "中队", "大队", "小组", "班子")
PERSON_NAME_MARKS = "某×xX*＊○"          # 王某, 李××: a masked person's name
COMMON_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
                   "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
# Long forms and their common abbreviations: names that differ only by these are probably one unit.
UNIT_ABBREVIATIONS = {"卫生健康委员会": "卫健委", "卫生健康委": "卫健委", "卫生健康局": "卫健局",
                      "卫生和计划生育委员会": "卫计委", "卫生计生委": "卫计委", "疾病预防控制中心": "疾控中心",
                      "人力资源和社会保障局": "人社局", "发展和改革委员会": "发改委", "纪律检查委员会": "纪委",
                      "中医药管理局": "中医局", "医疗保障局": "医保局", "市场监督管理局": "市场监管局",
                      "妇幼保健院": "妇幼院", "中医医院": "中医院"}
EXCEL_CELL_LIMIT = 32767
TRUNCATION_MARK = "…（内容过长已截断，全文见归档文件）"
# shown in a blank 佐证材料 cell of the master, linked to the measure's evidence folder; read back as blank
EVIDENCE_LINK_TEXT = "见归档佐证（{count}个文件）"

# ---- what happened to a received file ----
OUTCOME_ACCEPTED = "已采纳"
OUTCOME_PARTIAL = "部分采纳"
OUTCOME_REJECTED = "退回"
OUTCOME_DUPLICATE = "重复报送"
OUTCOME_SUPERSEDED = "已被新报送取代"
APPLIED_OUTCOMES = [OUTCOME_ACCEPTED, OUTCOME_PARTIAL]
UNIDENTIFIED = "未识别"

# ---- change history (history.sqlite and the master's read-only 变更记录 sheet) ----
HISTORY_DB = "history.sqlite"
SHEET_CHANGES = "变更记录"
CHANGE_COLUMNS = ["变更时间", "报送期次", ID, OWNER_UNIT, "字段", "原值", "新值", "来源"]
SOURCE_OFFICE = "办公室修改"
SOURCE_REVIEW = "销号审核"
SOURCE_INITIAL = "初始导入"

# ---- close-out review (销号审核, [review] required = true) ----
SHEET_REVIEW = "销号审核"
APPLIED_CLOSE = "申请销号"        # a unit's 已完成 while the office has not yet decided
CLOSED = "已销号"                 # the office agreed: counts as 已完成 in every figure
REVIEW_APPROVE = "同意销号"
REVIEW_RETURN = "退回补充"
REVIEW_CONCLUSIONS = [REVIEW_APPROVE, REVIEW_RETURN]
REVIEW_CONCLUSION_WORDS = {REVIEW_APPROVE: REVIEW_APPROVE, "同意": REVIEW_APPROVE, "予以销号": REVIEW_APPROVE,
                           REVIEW_RETURN: REVIEW_RETURN, "退回": REVIEW_RETURN, "不同意": REVIEW_RETURN}
REVIEW_PENDING = "待审核"
REVIEW_RETURNED = "已退回"
REVIEW_STATES = [REVIEW_PENDING, CLOSED, REVIEW_RETURNED]
REVIEW_FIELD = "销号审核"          # the history field of a request and its decision
REVIEW_APPLIED_AT = "申请日期"
REVIEW_EVIDENCE = "佐证"
REVIEW_FILES_MARK = "【已收文件】"   # 销号审核's 佐证 cell: the stored evidence files after the unit's own text
REVIEW_CONCLUSION = "审核结论"
REVIEW_OPINION = "审核意见"
REVIEW_STATE = "办理情况"          # written by the toolkit: 待审核 / 已销号 / 已退回
REVIEW_DECIDED_AT = "办理日期"
REVIEW_KEY = "申请编号"            # written by the toolkit: the request's run, its decision's run, a check code
REVIEW_COLUMNS = [ID, OWNER_UNIT, REVIEW_APPLIED_AT, REVIEW_EVIDENCE, REVIEW_CONCLUSION, REVIEW_OPINION,
                  REVIEW_STATE, REVIEW_DECIDED_AT, REVIEW_KEY]
UNIT_REVIEW_COLUMN = "销号审核意见"  # shown (read-only) in a unit's template when review is on

# ---- the escalation ladder (督办梯次): rungs, lowest first ----
RUNG_REMIND = "提醒函"
RUNG_SUPERVISE = "督办单"
RUNG_WARN = "告诫书"
RUNG_ACCOUNT = "约谈/问责建议"
RUNGS = [RUNG_REMIND, RUNG_SUPERVISE, RUNG_WARN, RUNG_ACCOUNT]
# the file stem of each rung (templates/<stem>.md.j2, output folders): no path separator in it
RUNG_FILES = {RUNG_REMIND: "提醒函", RUNG_SUPERVISE: "督办单", RUNG_WARN: "告诫书", RUNG_ACCOUNT: "约谈问责建议"}
# words an office may type for a rung (CLI --rung, config tables)
RUNG_WORDS = {**{r: r for r in RUNGS}, "约谈问责建议": RUNG_ACCOUNT, "约谈": RUNG_ACCOUNT, "问责建议": RUNG_ACCOUNT,
              "提醒": RUNG_REMIND, "督办": RUNG_SUPERVISE, "告诫": RUNG_WARN}
# why a rung is proposed (rules/ladder.py reason codes → words)
LADDER_REASONS = {"due_soon": "临期", "overdue": "逾期", "warn_after": "逾期超过告诫期限",
                  "account_after": "逾期超过约谈/问责期限", "no_progress": "上次发文后无进展",
                  "stepped_down": "上次发文后有实质进展，降一级"}
PROPOSED = "拟发"
ISSUED_FOLDER = "发文"
# 三方验收 before 销号 (config [ladder] acceptance = true)
PARTY_UNIT = "责任单位"
PARTY_LEAD = "牵头单位"
PARTY_OFFICE = "整改办"
ACCEPTANCE_PARTIES = [PARTY_UNIT, PARTY_LEAD, PARTY_OFFICE]

# ---- how a 通报 names the list's entries (a profile's [wording] replaces any of them; these are 巡视's) ----
NOTICE_WORDING = {
    "措施称谓": "整改措施",      # the entry, in full: 整改措施 / 交办事项 / 年度任务
    "措施简称": "措施",          # the entry, short: 措施 / 事项 / 任务
    "计量": "条",                # its measure word: 条 / 件 / 项
    "完成率称谓": "完成率",      # 完成率 / 办结率
    "完成率全称": "整改完成率",  # in the ranking's title: 各单位整改完成率排名
    "已完成称谓": "已完成",
    "基本完成称谓": "基本完成",
    "正在推进称谓": "正在推进",
    "未启动称谓": "未启动",
    "未完成称谓": "未完成",      # 逾期未完成 / 逾期未办结
    "分类依据": "类别",          # 二、分类进展 by 类别 (重点问题整改, 举一反三…) or by 重点问题 (来源, 任务类别, 方面)
    "主题称谓": "主题",          # how documents name each hierarchy level: 主题 / 审计项目 / 来源 / 任务类别
    "重点问题称谓": "重点问题",  # 重点问题 / 问题类别 / 来源 / 任务类别 / 问题方面
    "事项称谓": "事项",          # 事项 / 审计发现问题 / 交办事项 / 年度任务 / 查摆问题
}
STATUS_WORDING = {DONE: "已完成称谓", MOSTLY_DONE: "基本完成称谓", IN_PROGRESS: "正在推进称谓", NOT_STARTED: "未启动称谓"}
NOTICE_GROUPINGS = ["类别", "重点问题"]
