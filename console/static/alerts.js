/* Alert desk on api/alerts.py: urgent "已转账" cases with the stop-payment checklist on top,
   today's alerts refreshed every 5 s, and the timeline of the selected alert. */
(function () {
  "use strict";
  var C = window.Console, L = window.Labels, $ = function (id) { return document.getElementById(id); };
  var message = $("message"), selected = null;

  function checklistHtml(detail) {
    return '<ol class="checklist">' + (detail.checklist || []).map(function (c) {
      return '<li><label><input type="checkbox" data-alert="' + C.esc(detail.alert_id) + '" data-item="' + C.esc(c.item) + '"' +
        (c.done ? " checked" : "") + "> " + C.esc(c.label || c.item) + "</label>" +
        (c.done ? ' <span class="muted">' + C.esc(c.done.by || "") + "</span>" : "") + "</li>";
    }).join("") + "</ol>";
  }

  function loadUrgent() {
    return C.api("GET", "/api/v1/alerts/urgent").then(function (data) {
      $("urgent-count").textContent = data.cases.length;
      if (!data.cases.length) { $("urgent").innerHTML = '<p class="muted">没有未结的已转账案件。</p>'; return; }
      return Promise.all(data.cases.map(function (c) { return C.api("GET", "/api/v1/alerts/" + encodeURIComponent(c.alert_id)); }))
        .then(function (details) {
          $("urgent").innerHTML = details.map(function (d) {
            return '<div class="card urgent"><div class="row"><span class="badge urgent">已转账</span><strong>' + C.esc(d.phone_masked) +
              "</strong><span>" + C.esc(Labels.t("fraud", d.fraud_type)) + " · " + C.esc(d.counterpart) + '</span><span class="muted">' + C.time(d.answered_ms || d.received_ms) +
              '</span><button type="button" class="link" data-timeline="' + C.esc(d.alert_id) + '">时间线</button></div>' +
              "<h3>止付清单</h3>" + checklistHtml(d) + "</div>";
          }).join("");
        });
    });
  }

  function loadAlerts() {
    return C.api("GET", "/api/v1/alerts").then(function (data) {
      $("alerts").innerHTML = data.alerts.map(function (a) {
        var urgent = a.answer === "paid";
        return '<tr data-timeline="' + C.esc(a.alert_id) + '"' + (urgent ? ' class="urgent"' : "") + "><td>" + C.time(a.received_ms) + "</td><td>" +
          C.esc(a.phone_masked) + "</td><td>" + C.esc(Labels.t("fraud", a.fraud_type)) + '</td><td><span class="badge' + (urgent ? " urgent" : "") + '">' +
          C.esc(L.t("status", a.status)) + "</span></td><td>" + C.esc(a.answer ? L.t("answer", a.answer) : "—") + "</td></tr>";
      }).join("") || '<tr><td colspan="5" class="muted">今日暂无预警</td></tr>';
      $("updated").textContent = "更新于 " + C.time(Date.now()).slice(-8);
    });
  }

  function loadTimeline(id) {
    selected = id;
    return C.api("GET", "/api/v1/alerts/" + encodeURIComponent(id) + "/timeline").then(function (data) {
      $("timeline-hint").classList.add("hidden");
      $("timeline-title").textContent = "时间线 · " + id;
      $("timeline").innerHTML = data.timeline.map(function (e) {
        var extra = Object.keys(e).filter(function (k) { return ["event", "at_ms", "actor"].indexOf(k) < 0; })
          .map(function (k) { return C.esc(k) + "=" + C.esc(typeof e[k] === "object" ? JSON.stringify(e[k]) : e[k]); }).join(" ");
        return "<li><strong>" + C.esc(L.t("event", e.event)) + "</strong> " + C.time(e.at_ms) + ' <span class="muted">' + C.esc(e.actor || "") + " " + extra + "</span></li>";
      }).join("");
    });
  }

  document.addEventListener("click", function (ev) {
    var row = ev.target.closest && ev.target.closest("[data-timeline]");
    if (row) loadTimeline(row.getAttribute("data-timeline")).catch(function (e) { C.flash(message, e.message, false); });
  });
  document.addEventListener("change", function (ev) {
    var item = ev.target.getAttribute && ev.target.getAttribute("data-item");
    if (!item) return;
    C.api("POST", "/api/v1/alerts/" + encodeURIComponent(ev.target.getAttribute("data-alert")) + "/checklist", { item: item, done: ev.target.checked })
      .then(function () { C.flash(message, "止付清单已更新", true); return loadUrgent(); })
      .catch(function (e) { ev.target.checked = !ev.target.checked; C.flash(message, "更新失败：" + e.message, false); });
  });

  C.poll(function () {
    return Promise.all([loadAlerts(), loadUrgent(), selected ? loadTimeline(selected) : null]);
  }, 5000);
})();
