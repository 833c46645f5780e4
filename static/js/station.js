// Packing station, for a barcode scanner and a scale: scanning an item's code ticks its line,
// the focus moves on by itself, and after packing the label prints — through the station's
// printer (the server sends it), else from a hidden frame holding only the label at its size
// (never a new tab or window: popup blockers stop those). Without this file the page still
// works: a checkbox per line, the server checks all of them, the label opens as a PDF.
(function () {
  "use strict";

  var scanOrderField = document.getElementById("id_order");

  function printInFrame(url) {
    var old = document.getElementById("label-frame");
    if (old) old.remove();
    var frame = document.createElement("iframe");
    frame.id = "label-frame";
    frame.title = "label";
    frame.tabIndex = -1;
    frame.setAttribute("aria-hidden", "true");
    // Out of sight but laid out: some browsers print a display:none frame blank.
    frame.style.cssText = "position:fixed;right:0;bottom:0;width:0;height:0;border:0;";
    frame.addEventListener("load", function () {
      frame.contentWindow.focus();
      frame.contentWindow.print(); // the label page's @page is the label's size
      document.body.setAttribute("data-label-printed", url);
      if (scanOrderField) scanOrderField.focus();
    });
    frame.src = url;
    document.body.appendChild(frame);
  }

  var printLabel = document.getElementById("print-label");
  if (printLabel && printLabel.getAttribute("data-print-frame")) {
    printLabel.addEventListener("click", function (event) {
      event.preventDefault();
      printInFrame(printLabel.getAttribute("data-print-frame"));
    });
    if (printLabel.hasAttribute("data-autoprint")) {
      printInFrame(printLabel.getAttribute("data-print-frame"));
    }
  }

  var form = document.getElementById("pack-form");
  var scanOrder = document.getElementById("id_order");
  if (!form) {
    var choice = document.querySelector(".station-choices a");
    if (choice) {
      choice.focus(); // the same number in two channels: Enter takes the first, Tab the next
    } else if (scanOrder) {
      scanOrder.focus();
      scanOrder.select(); // a refused number is replaced by the next scan
    }
    return;
  }

  var primary = form.elements.order.value;
  var field = form.querySelector("[data-scan-item-field]");
  var scan = document.getElementById("scan-item");
  var status = document.getElementById("scan-item-status");
  var weight = document.getElementById("id_weight_kg");
  var bandWarning = form.querySelector("[data-band-warning]");
  var progress = form.querySelector("[data-progress]");
  var lines = Array.prototype.slice.call(form.querySelectorAll("[data-line]"));
  field.hidden = false;

  function box(line) {
    return line.querySelector("input[type=checkbox]");
  }

  function merged() {
    var ids = [primary];
    form.querySelectorAll("input[name=merge]:checked").forEach(function (input) {
      ids.push(input.value);
    });
    return ids;
  }

  function active() {
    var ids = merged();
    return lines.filter(function (line) {
      return ids.indexOf(line.getAttribute("data-order")) !== -1;
    });
  }

  function pending() {
    return active().filter(function (line) {
      return !box(line).checked;
    });
  }

  function refresh() {
    var ids = merged();
    lines.forEach(function (line) {
      line.classList.toggle("confirmed", box(line).checked);
      line.classList.toggle("inactive", ids.indexOf(line.getAttribute("data-order")) === -1);
    });
    var all = active().length;
    progress.textContent = all - pending().length + " / " + all;
    checkBand();
  }

  function say(text, bad) {
    status.textContent = text;
    field.classList.toggle("field-error", bad);
    scan.classList.toggle("scan-error", bad);
    scan.setAttribute("aria-invalid", bad ? "true" : "false");
  }

  function kg(text) {
    var value = text.trim().replace(/\s*(kg|公斤|千克)\s*$/i, "").replace(",", ".");
    return value === "" ? NaN : Number(value);
  }

  function checkBand() {
    var low = kg(weight.getAttribute("data-low"));
    var high = kg(weight.getAttribute("data-high"));
    form.querySelectorAll("[data-merge-order]").forEach(function (block) {
      if (block.querySelector("input[name=merge]").checked) {
        low += kg(block.getAttribute("data-low"));
        high += kg(block.getAttribute("data-high"));
      }
    });
    var value = kg(weight.value);
    var outside = !isNaN(value) && (value < low || value > high);
    bandWarning.textContent = outside ? form.getAttribute("data-msg-band") : "";
    weight.classList.toggle("out-of-band", outside);
  }

  function moveOn() {
    if (pending().length) scan.focus();
    else weight.focus();
  }

  scan.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") return;
    event.preventDefault();
    var code = scan.value.trim().toLowerCase();
    if (!code) {
      moveOn();
      return;
    }
    var matches = active().filter(function (line) {
      return line.getAttribute("data-code").toLowerCase() === code;
    });
    var open = matches.filter(function (line) {
      return !box(line).checked;
    });
    if (!open.length) {
      var key = matches.length ? "data-msg-done" : "data-msg-wrong";
      say(form.getAttribute(key) + " " + scan.value.trim(), true);
      scan.select();
      return;
    }
    box(open[0]).checked = true;
    say("✓ " + open[0].querySelector(".sku-name").textContent, false);
    scan.value = "";
    refresh();
    moveOn();
  });

  scan.addEventListener("input", function () {
    if (scan.classList.contains("scan-error")) say("", false);
  });

  form.addEventListener("change", function (event) {
    if (event.target.name === "lines" || event.target.name === "merge") {
      refresh();
      if (event.target.name === "merge") moveOn();
    }
  });

  weight.addEventListener("input", checkBand);

  // A scanned tracking or sorting code ends with Enter: go on to the weight if it is empty.
  ["id_tracking_number", "id_sorting_code"].forEach(function (id) {
    var input = document.getElementById(id);
    if (!input) return;
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && weight.value.trim() === "") {
        event.preventDefault();
        weight.focus();
      }
    });
  });

  form.addEventListener("submit", function (event) {
    if (pending().length) {
      event.preventDefault();
      say(form.getAttribute("data-msg-pending"), true);
      scan.focus();
    }
  });

  refresh();
  var wrong = form.querySelector(".field-error input, .field-error select");
  if (wrong) {
    var details = wrong.closest("details");
    if (details) details.open = true;
    wrong.focus();
  } else {
    moveOn();
  }
})();
