// Intake desk: live net weight and amount per grade row, a farmer filter, and extra rows on
// demand. The server recomputes everything exactly; these figures only help the clerk.
(function () {
  "use strict";
  var form = document.getElementById("intake-form");
  if (!form) return;
  var label = function (name) { return form.getAttribute("data-label-" + name) || name; };
  var num = function (input) {
    var v = input && input.value.trim().replace(",", ".");
    return v ? Number(v) : 0;
  };
  var fmtKg = function (v) { return (Math.round(v * 1000) / 1000).toLocaleString(undefined, { maximumFractionDigits: 3 }); };
  var fmtMoney = function (v) { return "¥" + v.toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 }); };
  var rows = Array.prototype.slice.call(form.querySelectorAll("[data-row]"));
  var field = function (row, name) { return row.querySelector("[name$='-" + name + "']"); };

  function isBlank(row) {
    return !field(row, "gross_kg").value && !field(row, "price_per_kg").value && !field(row, "grade").value &&
      !row.querySelector(".errorlist");
  }

  function update() {
    var totalKg = 0, totalAmount = 0;
    rows.forEach(function (row) {
      var out = row.querySelector("[data-net]");
      var gross = num(field(row, "gross_kg"));
      if (!gross) { out.textContent = ""; return; }
      var net = gross - num(field(row, "crates")) * num(field(row, "tare_per_crate_kg"));
      if (net <= 0) {
        out.textContent = label("bad");
        out.classList.add("bad");
        return;
      }
      var amount = net * num(field(row, "price_per_kg"));
      out.classList.remove("bad");
      out.textContent = label("net") + " " + fmtKg(net) + " " + label("unit") + " · " + fmtMoney(amount);
      totalKg += net;
      totalAmount += amount;
    });
    form.querySelector("[data-totals]").textContent =
      totalKg ? label("total") + " " + fmtKg(totalKg) + " " + label("unit") + " · " + fmtMoney(totalAmount) : "";
  }

  // Show one blank row at a time; the rest appear with "+ Another grade".
  var addButton = document.getElementById("add-row");
  var firstBlankSeen = false;
  rows.forEach(function (row) {
    if (isBlank(row)) {
      if (firstBlankSeen) row.hidden = true;
      firstBlankSeen = true;
    }
  });
  function syncAddButton() { addButton.hidden = !rows.some(function (r) { return r.hidden; }); }
  addButton.addEventListener("click", function () {
    var next = rows.find(function (r) { return r.hidden; });
    if (next) { next.hidden = false; field(next, "grade").focus(); }
    syncAddButton();
  });
  syncAddButton();

  // Farmer filter: narrows the select as the clerk types.
  var filter = document.getElementById("farmer-filter");
  var select = document.getElementById("id_farmer");
  if (filter && select) {
    filter.hidden = false;
    filter.addEventListener("input", function () {
      var q = filter.value.trim().toLowerCase();
      var matches = [];
      Array.prototype.forEach.call(select.options, function (opt) {
        if (!opt.value) return;
        var hit = !q || opt.text.toLowerCase().indexOf(q) !== -1;
        opt.hidden = !hit;
        opt.disabled = !hit;
        if (hit) matches.push(opt);
      });
      if (matches.length === 1) select.value = matches[0].value;
    });
  }

  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();
