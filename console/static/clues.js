/* Clue review on api/clues.py: promote a report's numbers/links to the risk list, or dismiss. */
(function () {
  "use strict";
  var C = window.Console, $ = function (id) { return document.getElementById(id); };
  var message = $("message"), types = [];

  function reviewCell(c) {
    if (c.status !== "pending") return C.esc(c.reviewed_by || "") + (c.fraud_type ? " · " + C.esc(c.fraud_type) : "");
    var options = types.map(function (t) {
      return '<option value="' + C.esc(t.id) + '"' + (t.id === c.suggested_type ? " selected" : "") + ">" + C.esc(t.name || t.id) + "</option>";
    }).join("");
    return '<div class="row"><select data-type="' + C.esc(c.id) + '">' + options + "</select>" +
      '<button type="button" data-review="promote" data-id="' + C.esc(c.id) + '">列入风险库</button>' +
      '<button type="button" class="secondary" data-review="dismiss" data-id="' + C.esc(c.id) + '">驳回</button></div>';
  }

  function load() {
    return C.api("GET", "/api/v1/clues?status=" + $("status").value).then(function (data) {
      $("clues").innerHTML = data.clues.map(function (c) {
        return "<tr><td>" + C.time(c.created_ms) + "</td><td>" + C.esc(c.kind) + "</td><td>" + C.esc(c.text || (c.ocr_text ? "[截图文字] " + c.ocr_text : "")) + "</td><td>" +
          C.esc((c.values || []).join("、")) + '</td><td><span class="badge">' + C.esc(c.status) + "</span></td><td>" + reviewCell(c) + "</td></tr>";
      }).join("") || '<tr><td colspan="6" class="muted">没有待审核的线索</td></tr>';
    });
  }

  document.addEventListener("click", function (ev) {
    var decision = ev.target.getAttribute && ev.target.getAttribute("data-review");
    if (!decision) return;
    var id = ev.target.getAttribute("data-id");
    var type = document.querySelector('select[data-type="' + id + '"]');
    C.api("POST", "/api/v1/clues/" + encodeURIComponent(id) + "/review", { decision: decision, fraud_type: type ? type.value : "other" })
      .then(function () { C.flash(message, decision === "promote" ? "已列入风险库" : "已驳回", true); return load(); })
      .catch(function (e) { C.flash(message, "操作失败：" + ((e.data && e.data.errors) ? e.data.errors.join("；") : e.message), false); });
  });
  $("status").addEventListener("change", load);
  C.api("GET", "/api/v1/content/fraud_type").then(function (d) { types = d.items; }).catch(function () {
    types = [{ id: "other", name: "其他" }];
  }).then(load);
})();
