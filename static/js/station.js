// Packing station, for a barcode scanner and a scale: every unit is scanned (a line of ×3 counts
// three scans, "2 / 3", or one scan and a typed 3), a code that lands in the weight field counts
// as a scan, the line above the items says what to do next, the focus moves on by itself; a
// weight outside the band asks why before it packs; an order in several boxes closes box 1 and
// comes back for box 2. After packing the label prints — through the station's
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
  var next = form.querySelector("[data-next]");
  var weight = document.getElementById("id_weight_kg");
  var reasonField = form.querySelector("[data-reason-field]");
  var reason = document.getElementById("id_weight_reason");
  var bandText = form.querySelector("[data-band-text]");
  var bandWarning = form.querySelector("[data-band-warning]");
  var progress = form.querySelector("[data-progress]");
  var closeBox = document.getElementById("close-box");
  var packButton = document.getElementById("pack-button");
  var boxNumber = Number(form.getAttribute("data-box")) || 1;
  var planned = Number(form.getAttribute("data-planned")) || 1;
  var lines = Array.prototype.slice.call(form.querySelectorAll("[data-line]")).filter(
    function (line) {
      return Number(line.getAttribute("data-held")) > 0;
    }
  );
  var lastScanned = null;
  field.hidden = false;

  function msg(name, values) {
    var text = form.getAttribute("data-msg-" + name) || "";
    Object.keys(values || {}).forEach(function (key) {
      text = text.split("{" + key + "}").join(values[key]);
    });
    return text;
  }

  function box(line) {
    return line.querySelector("input[type=checkbox]");
  }

  function held(line) {
    return Number(line.getAttribute("data-held"));
  }

  function count(line) {
    return Number(line.querySelector("[data-units]").value) || 0;
  }

  function name(line) {
    return line.querySelector(".sku-name").textContent;
  }

  function setCount(line, units) {
    line.querySelector("[data-units]").value = units ? String(units) : "";
    box(line).checked = units === held(line);
    line.querySelector("[data-count]").textContent = units + " / " + held(line);
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
      return count(line) < held(line);
    });
  }

  function units(which) {
    return which.reduce(function (sum, line) {
      return sum + count(line);
    }, 0);
  }

  function allUnits() {
    return active().reduce(function (sum, line) {
      return sum + held(line);
    }, 0);
  }

  // Several boxes planned (the carrier's weight limit) and this is not the last one.
  function splitting() {
    return boxNumber < planned;
  }

  function kg(text) {
    var value = String(text).trim().replace(/\s*(kg|公斤|千克)\s*$/i, "").replace(",", ".");
    if (!/^\d{1,4}(\.\d{0,3})?$/.test(value)) return NaN;
    return Number(value);
  }

  function band() {
    var expected = 0;
    var tolerance = 0;
    active().forEach(function (line) {
      var units = count(line);
      if (!units) return;
      expected +=
        units *
        (Number(line.getAttribute("data-unit-kg")) + Number(line.getAttribute("data-pack-kg")));
      tolerance += Number(line.getAttribute("data-tolerance"));
    });
    return {
      expected: expected,
      low: Math.max(0, expected - tolerance),
      high: expected + tolerance,
    };
  }

  function outside() {
    var value = kg(weight.value);
    var b = band();
    // the same 3-decimal rounding as the server's band
    var r = function (x) {
      return Math.round(x * 1000);
    };
    return !isNaN(value) && (r(value) < r(b.low) || r(value) > r(b.high));
  }

  function checkBand() {
    var b = band();
    var values = { expected: b.expected.toFixed(3), low: b.low.toFixed(3), high: b.high.toFixed(3) };
    if (units(active())) bandText.textContent = msg("band-help", values);
    var out = outside();
    bandWarning.textContent = "";
    weight.classList.toggle("out-of-band", out);
    if (out) reasonField.hidden = false;
    return out;
  }

  function instruct() {
    var done = units(active());
    var all = allUnits();
    var b = band();
    var values = {
      done: done,
      all: all,
      box: boxNumber,
      next: boxNumber + 1,
      low: b.low.toFixed(3),
      high: b.high.toFixed(3),
      weight: weight.value.trim(),
    };
    var text;
    var open = pending();
    if (!done) text = msg("scan-first");
    else if (kg(weight.value) > 0 && outside()) text = msg("band", values);
    else if (kg(weight.value) > 0) text = msg(open.length ? "close" : "pack", values);
    else if (!open.length) text = msg("weigh", values);
    else if (splitting()) text = msg("weigh-box", values);
    else if (lastScanned && count(lastScanned) < held(lastScanned))
      text = msg("line-more", {
        name: name(lastScanned),
        count: count(lastScanned),
        held: held(lastScanned),
      });
    else text = msg("scan-next", values);
    next.textContent = text;
    next.classList.toggle("warn", text === msg("band", values));
  }

  function refresh() {
    var ids = merged();
    form.querySelectorAll("[data-line]").forEach(function (line) {
      var on = box(line).checked || count(line) > 0;
      line.classList.toggle("confirmed", box(line).checked);
      line.classList.toggle("counting", on && !box(line).checked);
      line.classList.toggle("inactive", ids.indexOf(line.getAttribute("data-order")) === -1);
    });
    progress.textContent = units(active()) + " / " + allUnits();
    if (closeBox) closeBox.hidden = allUnits() < 2;
    checkBand();
    instruct();
  }

  function say(text, bad) {
    status.textContent = text;
    field.classList.toggle("field-error", bad);
    scan.classList.toggle("scan-error", bad);
    scan.setAttribute("aria-invalid", bad ? "true" : "false");
  }

  function matching(code) {
    code = code.toLowerCase();
    return active().filter(function (line) {
      return (line.getAttribute("data-codes") || line.getAttribute("data-code"))
        .toLowerCase()
        .split(" ")
        .indexOf(code) !== -1;
    });
  }

  function moveOn() {
    if (pending().length) {
      scan.focus();
      scan.select();
    } else {
      weight.focus();
    }
  }

  // One scanned (or typed) value: a code counts one unit of its line; a small number sets how
  // many units of the line scanned last are in the box. Returns false when refused.
  function take(raw) {
    var text = raw.trim();
    var matches = matching(text);
    if (matches.length) {
      var open = matches.filter(function (line) {
        return count(line) < held(line);
      });
      if (!open.length) {
        say(msg("done", { name: name(matches[0]), held: held(matches[0]) }), true);
        return false;
      }
      lastScanned = open[0];
      setCount(open[0], count(open[0]) + 1);
      say("✓ " + name(open[0]) + " " + count(open[0]) + " / " + held(open[0]), false);
      return true;
    }
    var typed = /^[x×*]?(\d{1,4})$/i.exec(text);
    if (typed) {
      var wanted = Number(typed[1]);
      if (!lastScanned) {
        say(msg("qty-first"), true);
        return false;
      }
      var values = { name: name(lastScanned), held: held(lastScanned) };
      if (wanted > held(lastScanned) || wanted < 1) {
        say(msg("qty-over", values), true);
        return false;
      }
      if (wanted !== held(lastScanned) && !splitting()) {
        say(msg("qty-must", values), true);
        return false;
      }
      setCount(lastScanned, wanted);
      say("✓ " + name(lastScanned) + " " + wanted + " / " + held(lastScanned), false);
      return true;
    }
    say(msg("wrong") + " " + text, true);
    return false;
  }

  scan.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") return;
    event.preventDefault();
    if (!scan.value.trim()) {
      if (units(active())) weight.focus();
      else say(msg("scan-first"), true);
      return;
    }
    if (!take(scan.value)) {
      scan.select();
      return;
    }
    scan.value = "";
    refresh();
    moveOn();
  });

  scan.addEventListener("input", function () {
    if (scan.classList.contains("scan-error")) say("", false);
  });

  form.addEventListener("change", function (event) {
    if (event.target.name === "lines") {
      var line = event.target.closest("[data-line]");
      setCount(line, event.target.checked ? held(line) : 0);
    }
    if (event.target.name === "lines" || event.target.name === "merge") {
      refresh();
      if (event.target.name === "merge") moveOn();
    }
  });

  weight.addEventListener("input", function () {
    checkBand();
    instruct();
  });

  // Enter on the weight (or the reason): pack, or close this box when units are left and more
  // boxes are planned; a weight outside the band first asks why.
  function finish(event) {
    var open = pending();
    if (!units(active())) {
      event.preventDefault();
      say(msg("scan-first"), true);
      scan.focus();
      return;
    }
    if (open.length && !splitting()) {
      event.preventDefault();
      say(msg("pending") + " " + name(open[0]) + " " + count(open[0]) + " / " + held(open[0]), true);
      scan.focus();
      return;
    }
    if (isNaN(kg(weight.value))) return; // the server names the mistake
    if (outside() && !reason.value.trim()) {
      event.preventDefault();
      reasonField.hidden = false;
      instruct();
      reason.focus();
      return;
    }
    if (open.length) {
      event.preventDefault();
      form.requestSubmit(closeBox);
    }
  }

  weight.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") return;
    var value = weight.value.trim();
    // A scanner that typed into the weight field: its code is a scan, not a weight.
    if (value && (isNaN(kg(value)) || matching(value).length)) {
      event.preventDefault();
      weight.value = "";
      var taken = take(value);
      if (taken) say(msg("weight-scan") + " ✓ " + status.textContent.replace(/^✓ /, ""), false);
      refresh();
      if (taken) moveOn();
      else scan.focus();
      return;
    }
    finish(event);
  });

  reason.addEventListener("keydown", function (event) {
    if (event.key === "Enter") finish(event);
  });

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
    var closing = event.submitter && event.submitter === closeBox;
    if (!units(active())) {
      event.preventDefault();
      say(msg("scan-first"), true);
      scan.focus();
    } else if (pending().length && !closing) {
      event.preventDefault();
      say(msg("pending"), true);
      scan.focus();
    }
  });

  lines.forEach(function (line) {
    if (box(line).checked && !count(line)) setCount(line, held(line));
  });
  refresh();
  var wrong = form.querySelector(".field-error input, .field-error select");
  if (!reasonField.hidden && !reason.value.trim() && weight.value.trim()) {
    reason.focus();
  } else if (wrong) {
    var details = wrong.closest("details");
    if (details) details.open = true;
    wrong.focus();
  } else {
    moveOn();
  }
})();
