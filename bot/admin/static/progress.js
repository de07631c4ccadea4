/* Live progress bars for the staff pages (no inline script needed: the CSP allows only files).
 *
 * Mark any element with the URL of a JSON endpoint answering
 * {total, sent, failed, pending, percent, done} (e.g. /admin/pushes/<id>/progress):
 *
 *   <div data-progress-url="/admin/pushes/12/progress">
 *     <progress max="100" value="40">40%</progress>
 *     <span data-progress-field="percent">40</span>%
 *     送信済み <span data-progress-field="sent">8</span> / <span data-progress-field="total">20</span>
 *     <span data-progress-when-done hidden>完了</span>
 *   </div>
 *   <script src="/admin/static/progress.js" defer></script>
 *
 * Every second (data-progress-interval="5000" for another period, in ms) it fetches the
 * URL and: sets the value of each <progress> inside (or the element itself, if it is a
 * <progress>) to `percent`; sets the text of each [data-progress-field="NAME"] to that
 * field of the answer; sets data-progress-done="true" on the element when `done`, shows
 * [data-progress-when-done] elements, hides [data-progress-while-running] ones and stops. An element already marked
 * data-progress-done="true" by the server is not polled. The element receives the events
 * "progress:update" and "progress:done" (detail: the answer) for anything page-specific.
 * Errors (network, 5xx) are retried with a slower pace; a lost login or a 404 stops it.
 */
(function () {
  "use strict";

  var DEFAULT_INTERVAL = 1000;
  var MAX_INTERVAL = 30000;

  function update(el, data) {
    var bars = el.tagName === "PROGRESS" ? [el] : Array.prototype.slice.call(el.querySelectorAll("progress"));
    bars.forEach(function (bar) {
      bar.value = Number(data.percent) || 0;
      if (bar.textContent.trim() !== "") {
        bar.textContent = bar.value + "%"; // the fallback text, for browsers without <progress>
      }
    });
    Array.prototype.forEach.call(el.querySelectorAll("[data-progress-field]"), function (node) {
      var name = node.getAttribute("data-progress-field");
      if (Object.prototype.hasOwnProperty.call(data, name)) {
        var value = data[name];
        node.textContent = typeof value === "number" ? value.toLocaleString("ja-JP") : String(value);
      }
    });
    el.dispatchEvent(new CustomEvent("progress:update", { detail: data, bubbles: true }));
    if (data.done) {
      el.setAttribute("data-progress-done", "true");
      Array.prototype.forEach.call(el.querySelectorAll("[data-progress-when-done]"), function (node) {
        node.hidden = false;
      });
      Array.prototype.forEach.call(el.querySelectorAll("[data-progress-while-running]"), function (node) {
        node.hidden = true;
      });
      el.dispatchEvent(new CustomEvent("progress:done", { detail: data, bubbles: true }));
    }
  }

  function watch(el) {
    var url = el.getAttribute("data-progress-url");
    if (!url || el.getAttribute("data-progress-done") === "true") {
      return;
    }
    var interval = parseInt(el.getAttribute("data-progress-interval"), 10) || DEFAULT_INTERVAL;
    var wait = interval;

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
        .then(function (response) {
          var json = (response.headers.get("Content-Type") || "").indexOf("application/json") !== -1;
          if (response.status === 404 || response.status === 401 || response.status === 403 ||
              (response.redirected && !json)) {
            return null; // gone, or the session ended (the login page came back): stop
          }
          if (!response.ok || !json) {
            throw new Error("progress: " + response.status);
          }
          return response.json().then(function (data) {
            wait = interval;
            update(el, data);
            return data;
          });
        })
        .then(function (data) {
          if (data && !data.done) {
            window.setTimeout(poll, wait);
          }
        })
        .catch(function () {
          wait = Math.min(wait * 2, MAX_INTERVAL);
          window.setTimeout(poll, wait);
        });
    }

    window.setTimeout(poll, interval);
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-progress-url]"), watch);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
