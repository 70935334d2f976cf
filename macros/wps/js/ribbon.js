/* The 整改台账 WPS add-in: the ribbon's buttons call the resident service (python -m toolkit serve)
   over HTTP with the install's token (config.js, written by `python -m toolkit wps install`).
   A button saves and closes the open ledger first (the service replaces the file; WPS would hold
   it and leave its ~$ marker), runs the operation, then opens the ledger again. */
(function (global) {
  "use strict";
  var CONFIG = global.ZHENGGAI_CONFIG || {};
  var TOKEN_HEADER = "X-Zhenggai-Token";
  var REVIEW_SHEET = "销号审核", LEDGER_SHEET = "整改台账";
  var pane = null;

  function base() { return "http://127.0.0.1:" + (CONFIG.port || 8765); }
  function app() { return global.Application || (global.wps && global.wps.Application); }
  function say(text, title) { global.alert((title ? title + "\n\n" : "") + text); }
  function mark(value) { if (global.document && document.body) document.body.dataset.last = value; }
  // A refusal as a person reads it: the message, and for the machine's trouble (family environment) what to do
  // under it, as the service's text answer and the Excel button say it.
  function failure(data) {
    var text = (data && data.message) || "服务拒绝了请求。";
    return data && data.family === "environment" && data.guidance ? text + "\n" + data.guidance : text;
  }

  function startHint() {
    var where = CONFIG.root ? "“" + CONFIG.root + "”" : "工作文件夹";
    return "整改台账服务没有运行（" + base() + " 无应答）。\n请在" + where + "中双击“启动服务”快捷方式，或在命令行运行：\n" +
      "python -m toolkit serve -c " + (CONFIG.root || "工作文件夹") + (CONFIG.port && CONFIG.port !== 8765 ? " --port " + CONFIG.port : "") +
      "\n要让它随开机自动启动，运行：python -m toolkit serve -c " + (CONFIG.root || "工作文件夹") + " --install\n然后再点按钮。";
  }

  function call(method, path, body) {
    var init = { method: method, headers: {}, cache: "no-store" };
    init.headers[TOKEN_HEADER] = CONFIG.token || "";
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(base() + path, init).then(function (resp) {
      return resp.json().then(function (data) { return { status: resp.status, data: data }; });
    });
  }

  function same(a, b) {
    var norm = function (p) { return String(p || "").replace(/\\/g, "/").replace(/\/+$/, ""); };
    return norm(a) === norm(b) || (/^[a-z]:/i.test(norm(a)) && norm(a).toLowerCase() === norm(b).toLowerCase());
  }

  function openLedger(master) {
    var books = app().Workbooks;
    for (var i = 1; i <= books.Count; i++) {
      if (same(books.Item(i).FullName, master)) return books.Item(i);
    }
    return null;
  }

  function selectedTargets(book) {
    // The selected rows of 销号审核 (编号, 单位 in columns A and B) or of 整改台账 (the service maps rows).
    var sheet = app().ActiveSheet, sel = app().Selection;
    if (!book || !sheet || !sel || !same(app().ActiveWorkbook.FullName, book.FullName)) {
      throw new Error("请先切换到台账，在“" + REVIEW_SHEET + "”表（或“" + LEDGER_SHEET + "”表）中选中要审核的行，再点按钮。");
    }
    var rows = [];
    for (var r = sel.Row; r < sel.Row + sel.Rows.Count; r++) rows.push(r);
    if (sheet.Name === REVIEW_SHEET) {
      var targets = [];
      rows.forEach(function (r) {
        var id = String(sheet.Range("A" + r).Text || "").trim();
        if (r > 2 && id) targets.push([id, String(sheet.Range("B" + r).Text || "").trim()]);
      });
      return { targets: targets };
    }
    return { sheet: sheet.Name, rows: rows };
  }

  async function press(operation, title, params, needsSelection) {
    mark("");
    if (!CONFIG.token) {
      say("加载项尚未与工作文件夹关联。请在命令行运行：python -m toolkit wps install -c 工作文件夹，然后重启 WPS。", title + "未完成");
      return mark(operation + ":failed");
    }
    var status;
    try {
      status = await call("GET", "/api/status");
    } catch (e) {
      say(startHint(), title + "未完成");
      return mark(operation + ":offline");
    }
    if (status.status !== 200 || !status.data.ok) {
      say(failure(status.data), title + "未完成");
      return mark(operation + ":failed");
    }
    if (status.data.running) {
      say("“" + status.data.running.title + "”正在运行，请等它结束后再点。", title + "未完成");
      return mark(operation + ":busy");
    }
    var master = status.data.workspace.master, book = openLedger(master), path = null, answer;
    try {
      if (needsSelection) Object.assign(params, selectedTargets(book));
      if (book) {            // the service writes the file: hand it over saved and closed
        book.Save();
        path = book.FullName;
        book.Close(false);
      }
    } catch (e) {
      say((e && e.message) || String(e), title + "未完成");
      return mark(operation + ":failed");
    }
    try {
      answer = await call("POST", "/api/" + operation, params);
    } catch (e) {
      answer = { status: 0, data: { ok: false, message: startHint() } };
    } finally {
      if (path) app().Workbooks.Open(path);
    }
    var data = answer.data || {};
    say(data.ok ? (data.lines || []).join("\n") : failure(data), title + (data.ok ? "完成" : "未完成"));
    mark(operation + ":" + (data.ok ? "ok" : "failed"));
    return data;
  }

  global.OnAddinLoad = function (ribbonUI) { global.ZhenggaiRibbon = ribbonUI; return true; };
  global.ZG_Consolidate = function () { return press("consolidate", "汇总报送", {}); };
  global.ZG_Refresh = function () { return press("refresh", "刷新统计", {}); };
  global.ZG_Highlight = function () { return press("highlight", "标记逾期", {}); };
  global.ZG_Notices = function () { return press("notices", "生成通报", {}); };
  global.ZG_Distribute = function () { return press("distribute", "分发模板", {}); };
  global.ZG_Remind = function () { return press("remind", "催报", {}); };
  global.ZG_Agree = function () { return press("review", "同意销号", { conclusion: "agree" }, true); };
  global.ZG_Return = function () {
    var opinion = global.prompt("请写明退回补充的审核意见（单位需补充的材料）：", "");
    if (opinion === null) return null;
    return press("review", "退回补充", { conclusion: "return", opinion: opinion }, true);
  };
  global.ZG_Console = function () {
    // The console is the service's own page: it carries its token itself, same origin as the API.
    if (!pane) pane = app().CreateTaskPane(base() + "/");
    pane.Visible = true;
    return pane;
  };
})(window);
