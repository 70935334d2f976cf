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
IMPLEMENTED = "已落实"  # how the seed reports a finished 整改意见

STATUS_SYNONYMS = {
    "完成": DONE, "已完成": DONE, "已完成整改": DONE, "已整改": DONE, "整改完成": DONE,
    "已办结": DONE, "办结": DONE, "已落实": DONE, "完成整改": DONE,
    "基本完成": MOSTLY_DONE, "基本完成整改": MOSTLY_DONE, "基本整改": MOSTLY_DONE,
    "正在推进": IN_PROGRESS, "推进中": IN_PROGRESS, "正在整改": IN_PROGRESS,
    "整改中": IN_PROGRESS, "进行中": IN_PROGRESS, "持续推进中": IN_PROGRESS,
    "未启动": NOT_STARTED, "未开始": NOT_STARTED, "尚未启动": NOT_STARTED,
}

# ---- deadline words ----
LONG_TERM = "长期坚持"
ONGOING = "持续推进"
IMMEDIATE = "立行立改"
LONG_TERM_WORDS = [LONG_TERM, ONGOING]
DEADLINE_WORDS = [LONG_TERM, ONGOING, IMMEDIATE]

# ---- item types and categories ----
SPECIFIC = "具体问题"
DRAW_LESSONS = "举一反三"
RECOMMENDATION = "整改意见"
ITEM_TYPES = [SPECIFIC, DRAW_LESSONS, RECOMMENDATION]
CATEGORY_KEY = "重点问题整改"
CATEGORIES = [CATEGORY_KEY, DRAW_LESSONS, REFORM, RECOMMENDATION]
YES = "是"

# ---- sheet names ----
SHEET_LEDGER = "整改台账"
SHEET_OWNERS = "单位填报明细"
SHEET_JUDGMENT = "问题研判"
SHEET_STATS = "整改进度统计"
SHEET_OVERDUE = "逾期清单"
SHEET_HISTORY = "历史进度"
SHEET_LOG = "报送记录"
SHEET_PARAMS = "参数"
SHEET_META = "模板信息"          # hidden sheet in unit workbooks

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

# ---- submission log columns ----
LOG_COLUMNS = ["报送期次", "单位", "收件时间", "原文件名", "归档文件", "内容哈希", "结果", "采纳行数", "问题数"]

HISTORY_COLUMNS = ["报送期次", "统计日期", "范围", "名称", "总数", "已完成", "基本完成", "正在推进", "未启动", "逾期", "完成率"]
PARAM_DIGEST = "内容摘要"
PARAM_REF_DATE = "基准日期"

CO_UNIT_SEPARATORS = "、,，;；/ \n"
EXCEL_CELL_LIMIT = 32767
TRUNCATION_MARK = "…(内容过长已截断,全文见归档文件)"

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
