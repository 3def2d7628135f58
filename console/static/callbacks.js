/* 96110 call-back queue on api/alerts.py: newest first (every page), reveal the number to dial, record the outcome. */
(function () {
  "use strict";
  var C = window.Console, L = window.Labels, $ = function (id) { return document.getElementById(id); };
  var message = $("message"), outcomes = [];

  function row(cb) {
    var opts = outcomes.map(function (o) { return '<option value="' + C.esc(o) + '">' + C.esc(L.t("outcome", o)) + "</option>"; }).join("");
    return '<tr data-id="' + C.esc(cb.id) + '"' + (cb.reason === "paid" ? ' class="urgent"' : "") + "><td>" + C.time(cb.created_ms) + '</td><td><span class="badge' +
      (cb.reason === "paid" ? " urgent" : "") + '">' + C.esc(L.t("reason", cb.reason)) + '</span></td><td><span data-phone>' + C.esc(cb.phone_masked) +
      '</span> <button type="button" class="link" data-reveal="' + C.esc(cb.id) + '">显示号码</button></td><td>' + C.esc(Labels.t("fraud", cb.fraud_type)) + " · " + C.esc(cb.counterpart) +
      "</td><td>" + (cb.attempts || []).length + '</td><td><form class="row" data-outcome="' + C.esc(cb.id) + '"><select name="outcome">' + opts +
      '</select><input name="note" placeholder="备注" maxlength="200"><button type="submit">记录</button></form></td></tr>';
  }

  // Follows next_cursor so an officer with many open call-backs sees them all (at most 20 pages).
  function fetchAll(cursor, rows, pages) {
    var url = "/api/v1/alerts/callbacks?limit=500" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "");
    return C.api("GET", url).then(function (data) {
      rows = rows.concat(data.callbacks);
      if (data.next_cursor && pages < 20) return fetchAll(data.next_cursor, rows, pages + 1);
      data.callbacks = rows;
      return data;
    });
  }

  function load() {
    return fetchAll("", [], 1).then(function (data) {
      outcomes = data.outcomes;
      $("callbacks").innerHTML = data.callbacks.map(row).join("") || '<tr><td colspan="6" class="muted">回拨队列为空</td></tr>';
    });
  }

  document.addEventListener("click", function (ev) {
    var id = ev.target.getAttribute && ev.target.getAttribute("data-reveal");
    if (!id) return;
    C.api("POST", "/api/v1/alerts/callbacks/" + encodeURIComponent(id) + "/reveal").then(function (data) {
      ev.target.parentNode.querySelector("[data-phone]").innerHTML = '<a href="tel:' + C.esc(data.phone) + '">' + C.esc(data.phone) + "</a>";
      ev.target.remove();
    }).catch(function (e) { C.flash(message, e.message, false); });
  });

  document.addEventListener("submit", function (ev) {
    var id = ev.target.getAttribute && ev.target.getAttribute("data-outcome");
    if (!id) return;
    ev.preventDefault();
    var f = ev.target.elements;
    C.api("POST", "/api/v1/alerts/callbacks/" + encodeURIComponent(id) + "/outcome", { outcome: f.outcome.value, note: f.note.value })
      .then(function (data) { C.flash(message, "已记录：" + L.t("outcome", data.callback.outcome || f.outcome.value), true); return load(); })
      .catch(function (e) { C.flash(message, "记录失败：" + e.message, false); });
  });

  C.poll(load, 10000);
})();
