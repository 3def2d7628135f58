/* Stations page: directory from /api/v1/{stations,communities,officers}, posters from their
   poster.svg / poster.png / posters.zip endpoints (api/registration.py). */
(function () {
  "use strict";
  var C = window.Console, $ = function (id) { return document.getElementById(id); };
  var select = $("station-select"), message = $("message");
  var communities = [];

  function posterCells(kind, id) {
    var base = "/api/v1/" + kind + "/" + encodeURIComponent(id) + "/poster.";
    return '<td class="row"><button type="button" class="secondary" data-preview="' + C.esc(base + "svg") + '">预览</button>' +
      '<a href="' + C.esc(base + "png") + '" download="' + C.esc(kind + "-" + id) + '.png">下载PNG</a> ' +
      '<a href="' + C.esc(base + "svg") + '" download="' + C.esc(kind + "-" + id) + '.svg">SVG</a></td>';
  }

  /* Escalation notices reach an officer once their own WeChat is linked: staff generate a
     one-time code, the officer sends it to the account (registration/officer_link.py). */
  function linkCell(o) {
    var state = o.openid ? "已绑定微信" : '<span class="muted">未绑定</span>';
    var button = $("officers").getAttribute("data-can-edit") ?
      ' <button type="button" class="secondary" data-link-officer="' + C.esc(o.id) + '" data-name="' + C.esc(o.name) + '">' +
      (o.openid ? "更换微信" : "生成绑定码") + "</button>" : "";
    return "<td>" + state + button + "</td>";
  }

  function issueLinkCode(id, name) {
    C.api("POST", "/api/v1/officers/" + encodeURIComponent(id) + "/link-code", {}).then(function (r) {
      C.flash(message, "请" + name + "用本人微信关注公众号后发送：" + r.message + "（" + Math.round(r.expires_in_s / 60) +
        "分钟内有效，仅可使用一次）", true);
    }).catch(function (e) { C.flash(message, "生成失败：" + e.message, false); });
  }

  function load() {
    var station = select.value;
    var q = station ? "?station=" + encodeURIComponent(station) : "";
    var zip = $("zip-link");
    if (station) { zip.href = "/api/v1/stations/" + encodeURIComponent(station) + "/posters.zip"; zip.classList.remove("hidden"); }
    return Promise.all([C.api("GET", "/api/v1/communities" + q), C.api("GET", "/api/v1/officers" + q)]).then(function (r) {
      communities = r[0].communities;
      var names = {};
      communities.forEach(function (c) { names[c.id] = c.name; });
      $("communities").innerHTML = communities.map(function (c) {
        return "<tr><td>" + C.esc(c.id) + "</td><td>" + C.esc(c.name) + "</td>" + posterCells("communities", c.id) + "</tr>";
      }).join("") || '<tr><td colspan="3" class="muted">暂无社区</td></tr>';
      $("officers").innerHTML = r[1].officers.map(function (o) {
        return "<tr><td>" + C.esc(o.id) + "</td><td>" + C.esc(o.name) + "</td><td>" + C.esc(o.badge_no) + "</td><td>" +
          C.esc(names[o.community_id] || "") + "</td>" + linkCell(o) + posterCells("officers", o.id) + "</tr>";
      }).join("") || '<tr><td colspan="6" class="muted">暂无民警</td></tr>';
      var oc = $("officer-community");
      if (oc) oc.innerHTML = '<option value="">（不属于社区）</option>' + communities.map(function (c) {
        return '<option value="' + C.esc(c.id) + '">' + C.esc(c.name) + "</option>";
      }).join("");
    });
  }

  function loadStations(keep) {
    return C.api("GET", "/api/v1/stations").then(function (data) {
      select.innerHTML = data.stations.map(function (s) {
        return '<option value="' + C.esc(s.id) + '">' + C.esc(s.name) + "（" + C.esc(s.id) + "）</option>";
      }).join("");
      if (keep) select.value = keep;
      return load();
    });
  }

  document.addEventListener("click", function (ev) {
    var officer = ev.target.getAttribute && ev.target.getAttribute("data-link-officer");
    if (officer) { issueLinkCode(officer, ev.target.getAttribute("data-name")); return; }
    var url = ev.target.getAttribute && ev.target.getAttribute("data-preview");
    if (!url) return;
    var img = $("preview");
    img.src = url + "?t=" + Date.now();
    img.classList.remove("hidden");
    $("preview-hint").classList.add("hidden");
    $("preview-card").scrollIntoView({ behavior: "smooth" });
  });

  function bindForm(id, url, extra) {
    var form = $(id);
    if (!form) return;
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var body = {};
      new FormData(form).forEach(function (v, k) { body[k] = v; });
      Object.assign(body, extra ? extra() : {});
      C.api("POST", url, body).then(function (saved) {
        form.reset();
        C.flash(message, "已保存：" + saved.name + "（" + saved.id + "）", true);
        return loadStations(select.value || saved.id);
      }).catch(function (e) { C.flash(message, "保存失败：" + e.message, false); });
    });
  }
  bindForm("community-form", "/api/v1/communities", function () { return { station_id: select.value }; });
  bindForm("officer-form", "/api/v1/officers", function () { return { station_id: select.value }; });
  bindForm("station-form", "/api/v1/stations");
  select.addEventListener("change", load);
  loadStations();
})();
