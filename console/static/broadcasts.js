/* Broadcasts page on api/broadcasts.py: create/edit/schedule, pause/resume/cancel, preview, runs. */
(function () {
  "use strict";
  var C = window.Console, $ = function (id) { return document.getElementById(id); };
  var form = $("broadcast-form"), message = $("message");
  var STATES = { active: "已排期", paused: "已暂停", cancelled: "已取消", finished: "已完成" };
  var AUDIENCE = { all: "全部", stations: "派出所", communities: "社区", officers: "民警", tag: "标签" };
  var byId = {};

  function toggles() {
    var kind = $("audience-kind").value, sched = $("schedule-kind").value;
    $("audience-ids-label").classList.toggle("hidden", kind === "all");
    $("once-label").classList.toggle("hidden", sched !== "once");
    $("cron-label").classList.toggle("hidden", sched !== "cron");
  }
  $("audience-kind").addEventListener("change", toggles);
  $("schedule-kind").addEventListener("change", toggles);

  function body() {
    var f = form.elements, kind = f.audience_kind.value, ids = f.audience_ids.value.split(/[,，\s]+/).filter(Boolean);
    var audience = kind === "all" ? { kind: "all" } : kind === "tag" ? { kind: "tag", tag_id: Number(ids[0]) } : { kind: kind, ids: ids };
    var schedule = f.schedule_kind.value === "once" ? { kind: "once", at: f.at.value } : { kind: "cron", cron: f.cron.value };
    var articles = Array.prototype.filter.call(f.articles.options, function (o) { return o.selected; }).map(function (o) { return o.value; });
    return { title: f.title.value, articles: articles, delivery: f.delivery.value, audience: audience, schedule: schedule };
  }

  function audienceText(a) {
    if (!a) return "";
    return (AUDIENCE[a.kind] || a.kind) + (a.ids ? "：" + a.ids.join("、") : a.tag_id ? "：" + a.tag_id : "");
  }

  function actions(b) {
    var out = ['<button type="button" class="link" data-act="report" data-id="' + C.esc(b.id) + '">报告</button>'];
    if (b.status === "active" || b.status === "paused") out.push('<button type="button" class="link" data-act="edit" data-id="' + C.esc(b.id) + '">编辑</button>');
    if (b.status === "active") out.push('<button type="button" class="link" data-act="pause" data-id="' + C.esc(b.id) + '">暂停</button>');
    if (b.status === "paused") out.push('<button type="button" class="link" data-act="resume" data-id="' + C.esc(b.id) + '">恢复</button>');
    if (b.status === "active" || b.status === "paused") out.push('<button type="button" class="link danger" data-act="cancel" data-id="' + C.esc(b.id) + '">取消</button>');
    return out.join(" ");
  }

  function load() {
    return C.api("GET", "/api/v1/broadcasts").then(function (data) {
      byId = {};
      data.broadcasts.forEach(function (b) { byId[b.id] = b; });
      $("broadcasts").innerHTML = data.broadcasts.map(function (b) {
        return "<tr><td>" + C.esc(b.title) + "</td><td><span class=\"badge\">" + C.esc(STATES[b.state] || b.state) + "</span>" +
          (b.synced ? "" : ' <span class="muted">等待调度器</span>') + "</td><td>" + C.esc(audienceText(b.audience)) + "</td><td>" +
          C.esc((b.next_runs || []).slice(0, 3).map(function (t) { return t.replace("T", " ").slice(0, 16); }).join("；")) +
          "</td><td>" + actions(b) + "</td></tr>";
      }).join("") || '<tr><td colspan="5" class="muted">暂无群发</td></tr>';
      $("preview-broadcast").innerHTML = data.broadcasts.map(function (b) {
        return '<option value="' + C.esc(b.id) + '">' + C.esc(b.title) + "</option>";
      }).join("");
    });
  }

  function report(id) {
    return C.api("GET", "/api/v1/broadcasts/" + encodeURIComponent(id) + "/runs").then(function (data) {
      $("report").innerHTML = "<strong>" + C.esc(byId[id] ? byId[id].title : id) + "</strong>" + (data.runs.length ? "<table><thead><tr><th>开始</th><th>状态</th><th>详情</th></tr></thead><tbody>" +
        data.runs.map(function (r) {
          var detail = Object.keys(r).filter(function (k) { return ["status", "started_ms", "broadcast_id"].indexOf(k) < 0; })
            .map(function (k) { return C.esc(k) + "=" + C.esc(typeof r[k] === "object" ? JSON.stringify(r[k]) : r[k]); }).join(" ");
          return "<tr><td>" + C.time(r.started_ms || r.created_ms) + "</td><td>" + C.esc(r.status) + '</td><td class="detail">' + detail + "</td></tr>";
        }).join("") + "</tbody></table>" : '<p class="muted">尚未运行。</p>');
    });
  }

  function edit(b) {
    var f = form.elements;
    f.id.value = b.id; f.title.value = b.title; f.delivery.value = b.delivery;
    Array.prototype.forEach.call(f.articles.options, function (o) { o.selected = b.articles.indexOf(o.value) >= 0; });
    f.audience_kind.value = b.audience.kind;
    f.audience_ids.value = (b.audience.ids || (b.audience.tag_id ? [b.audience.tag_id] : [])).join(",");
    f.schedule_kind.value = b.schedule.kind;
    if (b.schedule.kind === "once") f.at.value = String(b.schedule.at || "").slice(0, 16); else f.cron.value = b.schedule.cron;
    $("form-title").textContent = "编辑群发";
    $("cancel-edit").classList.remove("hidden");
    toggles();
  }

  function resetForm() {
    form.reset(); form.elements.id.value = "";
    $("form-title").textContent = "新建群发";
    $("cancel-edit").classList.add("hidden");
    toggles();
  }
  $("cancel-edit").addEventListener("click", resetForm);

  document.addEventListener("click", function (ev) {
    var act = ev.target.getAttribute && ev.target.getAttribute("data-act"), id = ev.target.getAttribute && ev.target.getAttribute("data-id");
    if (!act) return;
    if (act === "report") return report(id);
    if (act === "edit") return edit(byId[id]);
    if (act === "cancel" && !window.confirm("确定取消这条群发？取消后不能恢复。")) return;
    C.api("POST", "/api/v1/broadcasts/" + encodeURIComponent(id) + "/" + act).then(function () {
      C.flash(message, { pause: "已暂停", resume: "已恢复", cancel: "已取消" }[act], true);
      return load();
    }).catch(function (e) { C.flash(message, "操作失败：" + e.message, false); });
  });

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var id = form.elements.id.value;
    var call = id ? C.api("PUT", "/api/v1/broadcasts/" + encodeURIComponent(id), body()) : C.api("POST", "/api/v1/broadcasts", body());
    call.then(function (b) {
      C.flash(message, "已保存并排期：" + b.title + (b.next_runs && b.next_runs.length ? "，下次 " + b.next_runs[0].replace("T", " ").slice(0, 16) : ""), true);
      resetForm();
      return load();
    }).catch(function (e) {
      C.flash(message, "保存失败：" + ((e.data && e.data.errors) ? e.data.errors.join("；") : e.message), false);
    });
  });

  $("preview-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var f = ev.target.elements;
    C.api("POST", "/api/v1/broadcasts/" + encodeURIComponent(f.broadcast.value) + "/preview", { openid: f.openid.value })
      .then(function () { C.flash(message, "预览已发送到您的微信。", true); })
      .catch(function (e) { C.flash(message, "预览失败：" + ((e.data && e.data.errors) ? e.data.errors.join("；") : e.message), false); });
  });

  C.api("GET", "/api/v1/content/article").then(function (data) {
    $("articles").innerHTML = data.items.map(function (a) {
      return '<option value="' + C.esc(a.id) + '">' + C.esc(a.title || a.id) + "</option>";
    }).join("");
  }).catch(function () {});
  toggles();
  load();
})();
