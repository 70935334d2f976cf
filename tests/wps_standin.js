/* A stand-in for the part of WPS's JavaScript object model the add-in uses (window.Application:
   Workbooks.Count/Item/Open, ActiveWorkbook.FullName/Save/Close, ActiveSheet.Name/Range().Text,
   Selection.Row/Rows.Count, CreateTaskPane), plus alert/prompt. Every call is logged in order in
   window.__wps, and so is every fetch the page makes, so a test can tell what came before what. */
(function () {
  var log = window.__wps = [];
  var setup = window.__wpsSetup = { books: [], sheet: { name: "整改台账", cells: {} }, row: 3, count: 1, opinion: "" };
  function Book(path) { this.FullName = path; this.Name = path.split(/[\\/]/).pop(); }
  Book.prototype.Save = function () { log.push(["Save", this.FullName]); };
  Book.prototype.Close = function (save) {
    log.push(["Close", this.FullName, save]);
    var i = books.indexOf(this);
    if (i >= 0) books.splice(i, 1);
    if (app.ActiveWorkbook === this) app.ActiveWorkbook = books[0] || null;
  };
  var books = [];
  var app = {
    ActiveWorkbook: null,
    Workbooks: {
      get Count() { return books.length; },
      Item: function (i) { return books[i - 1]; },
      Open: function (path) { log.push(["Open", path]); var b = new Book(path); books.push(b); app.ActiveWorkbook = b; return b; }
    },
    get ActiveSheet() {
      return { Name: setup.sheet.name, Range: function (a) { return { Text: setup.sheet.cells[a] || "" }; } };
    },
    get Selection() { return { Row: setup.row, Rows: { Count: setup.count } }; },
    CreateTaskPane: function (url) { log.push(["CreateTaskPane", url]); return { Visible: false }; }
  };
  window.__wpsOpen = function (path) { var b = new Book(path); books.push(b); app.ActiveWorkbook = b; };
  window.Application = app;
  window.wps = { Application: app };
  window.alert = function (text) { log.push(["alert", String(text)]); };
  window.prompt = function () { log.push(["prompt"]); return setup.opinion; };
  var realFetch = window.fetch.bind(window);
  window.fetch = function (url, init) {
    log.push(["fetch", (init && init.method) || "GET", String(url)]);
    return realFetch(url, init);
  };
})();
