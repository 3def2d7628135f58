/* Console helpers: JSON calls carrying the CSRF token, polling, escaping. No dependencies. */
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.content : "";

  function api(method, url, body) {
    var init = { method: method, credentials: "same-origin",
                 headers: { "Accept": "application/json", "X-CSRF-Token": csrf } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (resp) {
      if (resp.status === 401) { window.location = "/console/login?next=" + encodeURIComponent(location.pathname); }
      var type = resp.headers.get("Content-Type") || "";
      var parsed = type.indexOf("json") >= 0 ? resp.json() : resp.text();
      return parsed.then(function (data) {
        if (!resp.ok) { var err = new Error((data && data.error) || ("HTTP " + resp.status)); err.status = resp.status; err.data = data; throw err; }
        return data;
      });
    });
  }

  /* Call fn now and every ms while the tab is visible; a slow call never overlaps the next. */
  function poll(fn, ms) {
    var timer = null;
    function tick() {
      clearTimeout(timer);
      Promise.resolve().then(fn).catch(function (e) { console.warn(e); }).then(function () {
        timer = setTimeout(tick, ms);
      });
    }
    document.addEventListener("visibilitychange", function () { if (!document.hidden) tick(); });
    tick();
  }

  function esc(value) {
    return String(value === undefined || value === null ? "" : value).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function time(ms) {
    if (!ms) return "";
    var d = new Date(Number(ms));
    function p(n) { return n < 10 ? "0" + n : "" + n; }
    return (d.getMonth() + 1) + "-" + p(d.getDate()) + " " + p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds());
  }

  function flash(el, text, ok) {
    el.textContent = text;
    el.className = ok ? "notice" : "alert";
  }

  /* Forms marked data-confirm ask first (inline handlers are blocked by our CSP). */
  document.addEventListener("submit", function (ev) {
    var msg = ev.target.getAttribute && ev.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) ev.preventDefault();
  });

  window.Console = { api: api, poll: poll, esc: esc, time: time, flash: flash, csrf: csrf };
})();
