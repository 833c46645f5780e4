// The sales dashboard's charts (Apache ECharts, vendored) and, while a live session is on,
// its refresh from the JSON API every `refresh_seconds` without reloading the page.
// The page's tables and figures are rendered by the server; without this file they are all
// there, only the charts are missing. Figures are formatted as orders/dashboard_views.show().
(function () {
  "use strict";
  var dataEl = document.getElementById("dashboard-data");
  if (!dataEl || !window.echarts) return;
  var data = JSON.parse(dataEl.textContent);
  var labelsEl = document.getElementById("dashboard-labels");
  var labels = labelsEl ? JSON.parse(labelsEl.textContent) : {};
  var lang = (document.documentElement.lang || "zh-hans").toLowerCase();
  var locale = lang.indexOf("zh") === 0 ? "zh-CN" : "en";
  var GREEN = "#2f6f4e";
  var ORANGE = "#c2410c";
  var charts = [];

  // --- formatting: the same as the server's show() -----------------------------------------
  var grouped = new Intl.NumberFormat("en-US");
  var money2 = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  var kg3 = new Intl.NumberFormat("en-US", { maximumFractionDigits: 3 });
  var compact = new Intl.NumberFormat(locale, { notation: "compact", maximumFractionDigits: 1 });

  function show(value, kind) {
    if (value === null || value === undefined || value === "") return "—";
    switch (kind) {
      case "int": return grouped.format(Number(value));
      case "money": return "¥" + money2.format(Number(value));
      case "kg": return kg3.format(Number(value));
      case "percent": return value + "%";
      case "hours": return (labels.hours || "%(hours)s h").replace("%(hours)s", value);
      // The API gives times in the studio's zone ("2026-06-18T20:05:00+08:00").
      case "clock": return String(value).slice(11, 16);
      case "date": return String(value).slice(0, 10);
      default: return String(value);
    }
  }

  // A bar's label: the full amount, or 1.2万 / 12K from ten thousand up.
  function shortMoney(value) {
    return Math.abs(value) >= 10000 ? "¥" + compact.format(value) : show(value, "money");
  }

  // "step": each minute (hour, day) on its own; "total": the running total since the start.
  var mode = "step";

  function running(values) {
    var sum = 0;
    return values.map(function (v) {
      if (v === null || v === undefined) return null;
      sum += v;
      return sum;
    });
  }

  // --- charts --------------------------------------------------------------------------------
  function chart(id, height) {
    var el = document.getElementById(id);
    if (!el) return null;
    if (height) el.style.height = height + "px";
    var existing = window.echarts.getInstanceByDom(el);
    if (existing) return existing;
    var made = window.echarts.init(el, null, { renderer: "canvas" });
    charts.push(made);
    return made;
  }

  function timeLabel(point, step) {
    return step === "day" ? String(point.at).slice(5, 10) : String(point.at).slice(11, 16);
  }

  function drawTimeline(d) {
    var c = chart("chart-timeline");
    if (!c) return;
    var points = d.timeline;
    var orders = points.map(function (p) { return p.orders; });
    var totals = running(orders);
    var total = mode === "total";
    c.setOption({
      animation: false,
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      tooltip: {
        trigger: "axis",
        formatter: function (items) {
          var i = items[0].dataIndex;
          var p = points[i];
          return timeLabel(p, d.step) + "<br>" + labels.orders + ": " + show(p.orders, "int") +
            " (" + labels.total + " " + show(totals[i], "int") + ")" +
            "<br>" + labels.sales + ": " + show(p.gross_sales, "money");
        },
      },
      xAxis: {
        type: "category",
        boundaryGap: d.step !== "minute" && !total,
        data: points.map(function (p) { return timeLabel(p, d.step); }),
        axisLabel: { hideOverlap: true },
      },
      yAxis: { type: "value", minInterval: 1 },
      series: [{
        name: labels.orders,
        type: d.step === "minute" || total ? "line" : "bar",
        data: total ? totals : orders,
        showSymbol: false,
        lineStyle: { width: 2 },
        areaStyle: { opacity: 0.12 },
        itemStyle: { color: GREEN },
      }],
    }, true);
  }

  function drawBars(id, rows, name, value, text, color) {
    var c = chart(id, Math.max(120, rows.length * 28 + 40));
    if (!c) return;
    c.setOption({
      animation: false,
      grid: { left: 8, right: 72, top: 8, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "value", show: false },
      yAxis: {
        type: "category",
        inverse: true,
        data: rows.map(name),
        axisTick: { show: false },
        axisLabel: { width: 90, overflow: "truncate" },
      },
      series: [{
        type: "bar",
        data: rows.map(value),
        barMaxWidth: 18,
        itemStyle: { color: color, borderRadius: [0, 4, 4, 0] },
        label: {
          show: true,
          position: "right",
          formatter: function (item) { return text(rows[item.dataIndex]); },
        },
        tooltip: { valueFormatter: function (v) { return text({ raw: v }); } },
      }],
    }, true);
    c.resize();
  }

  function drawProvinces(d) {
    drawBars(
      "chart-provinces", d.provinces,
      function (r) { return r.province; },
      function (r) { return Number(r.gross_sales); },
      function (r) { return r.raw !== undefined ? show(r.raw, "money") : shortMoney(Number(r.gross_sales)); },
      GREEN
    );
  }

  function drawFunnel(d) {
    drawBars(
      "chart-funnel", d.funnel,
      function (r) { return r.label; },
      function (r) { return r.orders; },
      function (r) {
        if (r.raw !== undefined) return show(r.raw, "int");
        return show(r.orders, "int") + (r.percent === null ? "" : " · " + show(r.percent, "percent"));
      },
      "#1d4f8a"
    );
  }

  function drawCompare(d) {
    var c = chart("chart-compare");
    if (!c) return;
    var minutes = d.minutes;
    var total = mode === "total";
    var a = minutes.map(function (m) { return m.a_orders; });
    var b = minutes.map(function (m) { return m.b_orders; });
    var aTotals = running(a);
    var bTotals = running(b);
    function line(value, runningTotal) {
      return show(value, "int") + " (" + labels.total + " " + show(runningTotal, "int") + ")";
    }
    c.setOption({
      animation: false,
      grid: { left: 8, right: 16, top: 36, bottom: 24, containLabel: true },
      legend: { top: 0, data: [labels.a, labels.b], type: "scroll" },
      tooltip: {
        trigger: "axis",
        formatter: function (items) {
          var i = items[0].dataIndex;
          var m = minutes[i];
          return labels.minute + " " + m.minute +
            "<br><span style='color:" + GREEN + "'>●</span> " + line(m.a_orders, aTotals[i]) + " · " + show(m.a_gross_sales, "money") +
            "<br><span style='color:" + ORANGE + "'>●</span> " + line(m.b_orders, bTotals[i]) + " · " + show(m.b_gross_sales, "money");
        },
      },
      xAxis: {
        type: "category",
        name: labels.minute,
        nameLocation: "middle",
        nameGap: 26,
        boundaryGap: false,
        data: minutes.map(function (m) { return m.minute; }),
      },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: labels.a, type: "line", showSymbol: false, connectNulls: false, itemStyle: { color: GREEN },
          data: total ? aTotals : a },
        { name: labels.b, type: "line", showSymbol: false, connectNulls: false, itemStyle: { color: ORANGE },
          data: total ? bTotals : b },
      ],
    }, true);
  }

  // --- figures and tables, redrawn from the API's JSON ----------------------------------------
  var FIGURE_KINDS = {
    orders: "int", units: "int", kg: "kg", gross_sales: "money", average_order_value: "money",
    cancelled: "int", cancel_percent: "percent", backlog: "int", median_hours_to_ship: "hours",
    shipped_measured: "int", refunded_amount: "money", refund_percent: "percent",
  };

  function fillFigures(summary) {
    document.querySelectorAll("[data-figure]").forEach(function (el) {
      var key = el.getAttribute("data-figure");
      el.textContent = show(summary[key], FIGURE_KINDS[key]);
    });
  }

  function fillTable(name, rows) {
    var table = document.querySelector('table[data-table="' + name + '"]');
    if (!table) return;
    var columns = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return { key: th.getAttribute("data-key"), kind: th.getAttribute("data-kind") };
    });
    var body = document.createElement("tbody");
    rows.forEach(function (row) {
      var tr = document.createElement("tr");
      columns.forEach(function (column) {
        var td = document.createElement("td");
        if (column.kind === "sku") {
          td.appendChild(document.createTextNode(row.name));
          td.appendChild(document.createElement("br"));
          var code = document.createElement("span");
          code.className = "sku-code";
          code.textContent = row.merchant_code;
          td.appendChild(code);
        } else {
          td.textContent = show(row[column.key], column.kind);
          if (column.kind !== "text") td.className = "num";
        }
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    if (!rows.length) {
      var empty = document.createElement("tr");
      empty.className = "empty";
      var cell = document.createElement("td");
      cell.colSpan = columns.length;
      cell.className = "muted";
      cell.textContent = labels.nothing || "";
      empty.appendChild(cell);
      body.appendChild(empty);
    }
    table.replaceChild(body, table.tBodies[0]);
  }

  function drawDashboard(d) {
    drawTimeline(d);
    drawProvinces(d);
    drawFunnel(d);
  }

  function update(d) {
    data = d;
    drawDashboard(d);
    fillFigures(d.summary);
    fillTable("minutes", d.timeline);
    fillTable("provinces", d.provinces);
    fillTable("funnel", d.funnel);
    fillTable("skus", d.skus);
    var updated = document.querySelector("[data-updated]");
    if (updated) {
      updated.textContent = String(d.generated_at).slice(11, 19);
      updated.setAttribute("datetime", d.generated_at);
      updated.classList.remove("stale");
      updated.removeAttribute("title");
    }
  }

  // --- refreshing while a live session is on --------------------------------------------------
  var root = document.querySelector("[data-dashboard]");
  var apiUrl = root && root.getAttribute("data-api");
  var timer = null;
  var waiting = false;

  function schedule(seconds) {
    clearTimeout(timer);
    timer = setTimeout(refresh, seconds * 1000);
  }

  function ended() {
    var badge = document.querySelector("[data-live-badge]");
    if (badge) badge.remove();
    var note = document.querySelector("[data-refresh-note]");
    if (note) note.textContent = labels.ended || "";
  }

  function refresh() {
    if (document.hidden) { waiting = true; return; }  // asked again when the tab is back
    fetch(apiUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (d) {
        update(d);
        if (d.refresh_seconds) schedule(d.refresh_seconds); else ended();
      })
      .catch(function () {
        var updated = document.querySelector("[data-updated]");
        if (updated) { updated.classList.add("stale"); updated.title = labels.stale || ""; }
        schedule(data.refresh_seconds || 30);
      });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && waiting) { waiting = false; refresh(); }
  });

  var resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () { charts.forEach(function (c) { c.resize(); }); }, 150);
  });

  var comparing = !!document.querySelector("[data-compare]");
  var toggle = document.querySelector("[data-series-toggle]");
  if (toggle) {
    toggle.hidden = false;
    toggle.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-mode]");
      if (!button) return;
      mode = button.getAttribute("data-mode");
      toggle.querySelectorAll("button").forEach(function (b) {
        b.setAttribute("aria-pressed", String(b === button));
      });
      if (comparing) drawCompare(data); else drawTimeline(data);
    });
  }

  if (comparing) {
    drawCompare(data);
  } else {
    drawDashboard(data);
    if (apiUrl && data.refresh_seconds) schedule(data.refresh_seconds);
  }
  window.shanhuoDashboard = { refresh: refresh, show: show };
})();
