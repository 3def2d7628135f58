/* Content library page on api/content.py: list, edit as JSON (validated server-side), history. */
(function () {
  "use strict";
  var C = window.Console, $ = function (id) { return document.getElementById(id); };
  var kind = $("kind"), editor = $("editor"), message = $("message");
  var current = null;  // id being edited, null for a new item

  function idOf(item) { return kind.value === "reply" ? item.name : item.id; }
  function summary(item) {
    var text = item.title || item.name || item.question || item.text || JSON.stringify(item);
    return String(text).slice(0, 60);
  }

  function load() {
    return C.api("GET", "/api/v1/content/" + kind.value).then(function (data) {
      $("items").innerHTML = data.items.map(function (item) {
        return "<tr><td><code>" + C.esc(idOf(item)) + "</code></td><td>" + C.esc(summary(item)) +
          '</td><td><button type="button" class="link" data-edit="' + C.esc(idOf(item)) + '">编辑</button></td></tr>';
      }).join("");
    });
  }

  function open(id) {
    var base = "/api/v1/content/" + kind.value + "/" + encodeURIComponent(id);
    return Promise.all([C.api("GET", base), C.api("GET", base + "/history")]).then(function (r) {
      current = id;
      $("editor-title").textContent = "编辑 " + id + "（当前版本 " + r[0].version + "）";
      editor.elements.json.value = JSON.stringify(r[0].item, null, 2);
      $("history").innerHTML = r[1].versions.slice().reverse().map(function (v) {
        return "<li>版本 " + C.esc(v.version) + " · " + C.esc(v.editor) + " · " + C.time(v.saved_at_ms) + "</li>";
      }).join("") || '<li class="muted">仅有内置版本</li>';
    });
  }

  document.addEventListener("click", function (ev) {
    var id = ev.target.getAttribute && ev.target.getAttribute("data-edit");
    if (id) open(id).catch(function (e) { C.flash(message, e.message, false); });
  });
  $("new-item").addEventListener("click", function () {
    current = null;
    $("editor-title").textContent = "新建";
    editor.elements.json.value = kind.value === "reply" ? '{\n  "name": ""\n}' : '{\n  "id": ""\n}';
    $("history").innerHTML = "";
  });
  kind.addEventListener("change", function () { current = null; load(); });

  editor.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var item;
    try { item = JSON.parse(editor.elements.json.value); } catch (e) { return C.flash(message, "JSON 格式错误：" + e.message, false); }
    var call = current === null ? C.api("POST", "/api/v1/content/" + kind.value, item)
      : C.api("PUT", "/api/v1/content/" + kind.value + "/" + encodeURIComponent(current), item);
    call.then(function (saved) {
      C.flash(message, "已保存 " + saved.id + " 版本 " + saved.version, true);
      return load().then(function () { return open(saved.id); });
    }).catch(function (e) {
      C.flash(message, "未保存：" + ((e.data && e.data.errors) ? e.data.errors.join("；") : e.message), false);
    });
  });
  load();
})();
