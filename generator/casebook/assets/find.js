/* 共富案例库 — filters and sort for the all-clusters table (cases/), and the column picker of the
   compare page (compare/). Progressive enhancement: both pages are whole without script, and this
   file, loaded on every page, does nothing on a page without their tables.

   The tables are the data. A column whose header has the class cb-facet is a filter: its values are
   the texts of the .cb-v elements in its cells. cb-sort makes a column a sort order (its cells'
   .cb-k number where there is one, else their .cb-v texts, else their text); cb-key-<name> names
   the column in the address. A compare column is named by its header's id (compare-<cluster id>). Case text is only
   ever read as textContent and written back as textContent: nothing here parses HTML.

   State lives in the address's fragment (#industry=竹子&sort=town, #c=grain-store&c=mountain-road),
   so a filtered list can be shared or bookmarked, and it works opened from disk (file://), where
   nothing may be fetched. */
(function () {
  "use strict";

  var SHOWN = 8; // values listed before "显示全部"
  // Rows shown at a time: laying out a thousand table rows is what a filter would otherwise wait
  // on (the list itself is counted in full; more rows are a click away, and all show without script).
  var PAGE = 100;
  var NARROW = 15; // from this many values, a box narrows the list
  var collator = window.Intl && Intl.Collator ? new Intl.Collator("zh-Hans-CN", { numeric: true, ignorePunctuation: true }) : null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function readState() {
    return new URLSearchParams(location.hash.replace(/^#/, ""));
  }

  function writeState(params) {
    var s = params.toString();
    try {
      history.replaceState(history.state, "", s ? "#" + s : location.pathname + location.search);
    } catch (e) {
      location.replace("#" + s); // a browser that refuses replaceState here still takes a fragment
    }
  }

  // A group of checkboxes, one per value, each with an optional count. Long lists show their first
  // values and a button for the rest, and very long ones a box that narrows them by a substring.
  function Choices(legend, labels, onChange) {
    var self = this;
    this.checked = [];
    this.items = [];
    this.expanded = false;
    this.query = "";
    this.node = el("fieldset", "cb-choices");
    this.node.appendChild(el("legend", null, legend));
    if (labels.length >= NARROW) {
      var box = el("input", "cb-choices-narrow");
      box.type = "search";
      box.placeholder = "查找" + legend;
      box.setAttribute("aria-label", "在" + legend + "中查找");
      box.addEventListener("input", function () { self.query = box.value.trim().toLowerCase(); self.layout(); });
      this.node.appendChild(box);
    }
    var list = el("ul", "cb-choices-list");
    labels.forEach(function (label, i) {
      var li = el("li"), lab = el("label"), input = el("input"), count = el("span", "cb-count");
      input.type = "checkbox";
      input.addEventListener("change", function () { self.checked[i] = input.checked; onChange(); });
      lab.appendChild(input);
      lab.appendChild(document.createTextNode(" " + label + " "));
      lab.appendChild(count);
      li.appendChild(lab);
      list.appendChild(li);
      self.checked.push(false);
      self.items.push({ li: li, input: input, count: count, text: label.toLowerCase() });
    });
    this.node.appendChild(list);
    if (labels.length > SHOWN) {
      this.more = el("button", "cb-choices-more");
      this.more.type = "button";
      this.more.addEventListener("click", function () { self.expanded = !self.expanded; self.layout(); });
      this.node.appendChild(this.more);
    }
    this.layout();
  }
  Choices.prototype.set = function (checked) {
    var self = this;
    this.checked = checked.slice();
    this.items.forEach(function (item, i) { item.input.checked = self.checked[i]; });
    this.layout();
  };
  Choices.prototype.counts = function (counts) {
    var self = this;
    this.items.forEach(function (item, i) {
      item.count.textContent = String(counts[i]);
      item.li.classList.toggle("cb-zero", counts[i] === 0 && !self.checked[i]);
    });
  };
  // Which values are listed: all that match the narrowing text, else the first few and every
  // checked one (a value chosen from the full list stays in view when it folds again).
  Choices.prototype.layout = function () {
    var self = this;
    this.items.forEach(function (item, i) {
      var match = !self.query || item.text.indexOf(self.query) >= 0;
      var show = match && (!!self.query || self.expanded || i < SHOWN || self.checked[i]);
      if (item.li.hidden === show) item.li.hidden = !show;
    });
    if (this.more) {
      this.more.hidden = !!this.query || this.items.length <= SHOWN;
      this.more.textContent = this.expanded ? "收起" : "显示全部 " + this.items.length + " 项";
      this.more.setAttribute("aria-expanded", String(this.expanded));
    }
  };

  function button(text, cls, onClick) {
    var b = el("button", cls, text);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }

  function keyOf(th) {
    var m = /(?:^|\s)cb-key-([a-z]+)(?:\s|$)/.exec(th.className);
    return m ? m[1] : null;
  }

  // ------------------------------------------------------------------ cases/: filter and sort

  function initFind(root) {
    var table = root.querySelector("table");
    if (!table || !table.tHead || !table.tBodies.length) return;
    var heads = table.tHead.rows[0].cells, body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var facets = [], sorts = [{ key: "", label: "默认顺序", col: -1 }];
    for (var c = 0; c < heads.length; c++) {
      var key = keyOf(heads[c]);
      if (!key) continue;
      var label = heads[c].textContent.trim();
      if (heads[c].classList.contains("cb-facet")) facets.push({ key: key, label: label, col: c });
      if (heads[c].classList.contains("cb-sort")) {
        sorts.push({ key: key, label: label, col: c, desc: heads[c].classList.contains("cb-sort-desc") });
      }
    }
    // Each row's values of each facet, as numbers into the facet's list of values (listed by how
    // many clusters have them, then in the order they first appear).
    facets.forEach(function (f) {
      var index = new Map(), labels = [], totals = [];
      var raw = rows.map(function (tr) {
        var ids = [];
        tr.cells[f.col].querySelectorAll(".cb-v").forEach(function (v) {
          var text = v.textContent.trim();
          if (!text) return;
          var id = index.get(text);
          if (id === undefined) { id = labels.length; index.set(text, id); labels.push(text); totals.push(0); }
          if (ids.indexOf(id) < 0) { ids.push(id); totals[id]++; }
        });
        return ids;
      });
      var order = labels.map(function (_, i) { return i; }).sort(function (a, b) { return totals[b] - totals[a] || a - b; });
      var rank = [];
      order.forEach(function (id, r) { rank[id] = r; });
      f.labels = order.map(function (id) { return labels[id]; });
      f.index = new Map(f.labels.map(function (text, i) { return [text, i]; }));
      f.rows = raw.map(function (ids) { return ids.map(function (id) { return rank[id]; }); });
    });
    // A filter with one value (every cluster in *区) offers no choice.
    facets = facets.filter(function (f) { return f.labels.length > 1; });
    sorts.forEach(function (s) {
      if (s.col < 0) return;
      s.values = rows.map(function (tr) {
        var cell = tr.cells[s.col], k = cell.querySelector(".cb-k"), vs = cell.querySelectorAll(".cb-v");
        if (k) return parseFloat(k.textContent);
        return vs.length ? Array.prototype.map.call(vs, function (v) { return v.textContent.trim(); }).join("、")
          : cell.textContent.trim();
      });
    });

    var controls = el("div", "cb-find-controls");
    var bar = el("div", "cb-find-bar");
    var sortLabel = el("label", "cb-find-sort", "排序 ");
    var select = el("select");
    sorts.forEach(function (s, i) {
      var o = el("option", null, i === 0 ? s.label : "按" + s.label + (s.desc ? "（多到少）" : ""));
      o.value = String(i);
      select.appendChild(o);
    });
    sortLabel.appendChild(select);
    var status = el("p", "cb-find-status");
    status.setAttribute("role", "status");
    var clear = button("清除筛选", "cb-find-clear", function () {
      facets.forEach(function (f) { f.choices.set(f.labels.map(function () { return false; })); });
      update();
    });
    bar.appendChild(sortLabel);
    bar.appendChild(clear);
    bar.appendChild(status);
    var panel = el("details", "cb-find-panel");
    var summary = el("summary", null, "筛选条件");
    panel.appendChild(summary);
    var groups = el("div", "cb-find-facets");
    facets.forEach(function (f) {
      f.choices = new Choices(f.label, f.labels, update);
      groups.appendChild(f.choices.node);
    });
    panel.appendChild(groups);
    controls.appendChild(panel);
    controls.appendChild(bar);
    root.insertBefore(controls, root.firstChild);
    select.addEventListener("change", update);
    var compare = root.querySelector("a.cb-compare-link");
    var sortedBy = 0;

    var order = rows.map(function (_, i) { return i; }), limit = PAGE;

    function sortRows(by) {
      var s = sorts[by];
      order = rows.map(function (_, i) { return i; });
      if (s.col >= 0) {
        var v = s.values, sign = s.desc ? -1 : 1;
        order.sort(function (a, b) {
          var x = v[a], y = v[b];
          // Empty cells (a cluster without a town) last, whichever way the order runs.
          var blank = (x === "" || (typeof x === "number" && isNaN(x))) - (y === "" || (typeof y === "number" && isNaN(y)));
          if (blank) return blank;
          var d = typeof x === "number" ? x - y : collator ? collator.compare(x, y) : (x < y ? -1 : x > y ? 1 : 0);
          return sign * d || a - b;
        });
      }
      var frag = document.createDocumentFragment();
      order.forEach(function (i) { frag.appendChild(rows[i]); });
      body.appendChild(frag);
      sortedBy = by;
    }

    var moreBar = el("p", "cb-find-more");
    var more = button("", "cb-find-next", function () { limit += PAGE; apply(); });
    var all = button("全部显示", "cb-find-every", function () { limit = Infinity; apply(); });
    moreBar.appendChild(more);
    moreBar.appendChild(all);
    root.appendChild(moreBar);

    // One pass over the rows: a row is listed when it passes every filter (within a filter, any
    // chosen value will do); a value's count is the number of rows passing every other filter
    // that have the value, so it says what choosing it would bring in or keep.
    function apply() {
      var chosen = facets.map(function (f) { return f.choices.checked; });
      var active = chosen.map(function (ch) { return ch.indexOf(true) >= 0; });
      var counts = facets.map(function (f) { return f.labels.map(function () { return 0; }); });
      var passes = [];
      for (var r = 0; r < rows.length; r++) {
        var failed = -1, failures = 0;
        for (var f = 0; f < facets.length && failures < 2; f++) {
          if (!active[f]) continue;
          var ids = facets[f].rows[r], ok = false;
          for (var j = 0; j < ids.length; j++) if (chosen[f][ids[j]]) { ok = true; break; }
          if (!ok) { failures++; failed = f; }
        }
        passes.push(failures === 0);
        if (failures === 0) {
          for (var g = 0; g < facets.length; g++) {
            var vs = facets[g].rows[r];
            for (var k = 0; k < vs.length; k++) counts[g][vs[k]]++;
          }
        } else if (failures === 1) {
          var own = facets[failed].rows[r];
          for (var m = 0; m < own.length; m++) counts[failed][own[m]]++;
        }
      }
      facets.forEach(function (fc, i) { fc.choices.counts(counts[i]); });
      var by = Number(select.value) || 0;
      if (by !== sortedBy) sortRows(by);
      // In the order shown: the first ``limit`` listed rows are displayed, the rest wait.
      var listed = [], shown = 0;
      order.forEach(function (i) {
        var show = passes[i] && shown < limit;
        if (passes[i]) listed.push(i);
        if (show) shown++;
        if (rows[i].hidden === show) rows[i].hidden = !show;
      });
      var n = listed.length, total = rows.length;
      status.textContent = (n === total ? "列出全部 " + total + " 个组团" : "列出 " + n + " 个组团（共 " + total + " 个）")
        + (n === 0 ? "：没有同时符合这些条件的组团" : shown < n ? "，先显示前 " + shown + " 个" : "");
      moreBar.hidden = shown >= n;
      more.textContent = "再显示 " + Math.min(PAGE, n - shown) + " 个";
      all.textContent = "全部显示（" + n + " 个）";
      var made = chosen.reduce(function (sum, ch) { return sum + ch.filter(Boolean).length; }, 0);
      summary.textContent = made ? "筛选条件（已选 " + made + " 项）" : "筛选条件";
      clear.hidden = !made;
      if (compare) {
        compare.hash = n === total ? "" : listed.map(function (i) {
          return "c=" + encodeURIComponent(rows[i].id.replace(/^cluster-/, ""));
        }).join("&");
        compare.textContent = n === total ? "并列对比全部 " + total + " 个组团" : "并列对比列出的 " + n + " 个组团";
        compare.hidden = n === 0;
      }
      return { listed: n, active: active };
    }

    function update() {
      limit = PAGE; // a new question starts again at the top of its answer
      var state = apply(), params = new URLSearchParams();
      facets.forEach(function (f, i) {
        if (!state.active[i]) return;
        f.labels.forEach(function (text, v) { if (f.choices.checked[v]) params.append(f.key, text); });
      });
      if (sortedBy) params.set("sort", sorts[sortedBy].key);
      writeState(params);
    }

    function load() {
      var params = readState(), any = false;
      facets.forEach(function (f) {
        var checked = f.labels.map(function () { return false; });
        params.getAll(f.key).forEach(function (text) {
          var i = f.index.get(text);
          if (i !== undefined) { checked[i] = true; any = true; }
        });
        f.choices.set(checked);
      });
      var by = 0;
      sorts.forEach(function (s, i) { if (i && s.key === params.get("sort")) by = i; });
      select.value = String(by);
      apply();
      return any;
    }

    var filtered = load();
    // Open on wide screens, and wherever the address already chose something; folded on a phone.
    panel.open = filtered || !window.matchMedia("(max-width: 44.984375em)").matches;
    window.addEventListener("hashchange", load);
    // Paper has no "show more": a printed list holds every listed cluster.
    var onScreen = PAGE;
    window.addEventListener("beforeprint", function () { onScreen = limit; limit = Infinity; apply(); });
    window.addEventListener("afterprint", function () { limit = onScreen; apply(); });
  }

  // ------------------------------------------------------------------ compare/: pick the columns

  function initCompare(root) {
    var table = root.querySelector("table");
    if (!table || !table.tHead || !table.tBodies.length) return;
    var heads = table.tHead.rows[0].cells, cols = [];
    for (var c = 1; c < heads.length; c++) {
      var m = /^compare-([a-z0-9-]+)$/.exec(heads[c].id);
      if (m) cols.push({ id: m[1], label: heads[c].textContent.trim(), at: c, cells: [heads[c]] });
    }
    if (!cols.length) return;
    Array.prototype.forEach.call(table.tBodies[0].rows, function (tr) {
      cols.forEach(function (col) { if (tr.cells[col.at]) col.cells.push(tr.cells[col.at]); });
    });
    var byId = new Map(cols.map(function (col, i) { return [col.id, i]; }));
    var controls = el("div", "cb-find-controls");
    var picker = new Choices("选择要对比的组团", cols.map(function (col) { return col.label; }), update);
    var bar = el("div", "cb-find-bar");
    var status = el("p", "cb-find-status");
    status.setAttribute("role", "status");
    bar.appendChild(button("全选", "cb-find-all", function () { picker.set(cols.map(function () { return true; })); update(); }));
    bar.appendChild(button("清空", "cb-find-clear", function () { picker.set(cols.map(function () { return false; })); update(); }));
    bar.appendChild(status);
    controls.appendChild(picker.node);
    controls.appendChild(bar);
    root.insertBefore(controls, root.firstChild);
    picker.node.classList.add("cb-compare-picker");

    function apply() {
      var shown = 0;
      cols.forEach(function (col, i) {
        var hide = !picker.checked[i];
        if (!hide) shown++;
        col.cells.forEach(function (cell) { if (cell.hidden !== hide) cell.hidden = hide; });
      });
      table.hidden = shown === 0;
      status.textContent = shown === 0 ? "未选择组团：勾选上方的组团即可对比"
        : shown === cols.length ? "对比全部 " + cols.length + " 个组团" : "对比 " + shown + " 个组团（共 " + cols.length + " 个）";
      return shown;
    }

    function update() {
      var shown = apply(), params = new URLSearchParams();
      if (shown < cols.length) {
        cols.forEach(function (col, i) { if (picker.checked[i]) params.append("c", col.id); });
        if (!shown) params.set("c", "");
      }
      writeState(params);
    }

    function load() {
      var params = readState(), checked;
      if (params.has("c")) {
        checked = cols.map(function () { return false; });
        params.getAll("c").forEach(function (id) { var i = byId.get(id); if (i !== undefined) checked[i] = true; });
      } else {
        checked = cols.map(function () { return true; });
      }
      picker.set(checked);
      apply();
    }

    load();
    window.addEventListener("hashchange", load);
  }

  function init() {
    var find = document.querySelector(".md-content .cb-find"), compare = document.querySelector(".md-content .cb-compare");
    if (!find && !compare) return;
    document.querySelectorAll(".cb-find-js").forEach(function (p) { p.hidden = false; });
    if (find) initFind(find);
    if (compare) initCompare(compare);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
