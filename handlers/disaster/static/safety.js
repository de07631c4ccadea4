/* 安否・避難報告 (/admin/safety): the counts follow residents' reports without a reload.
 *
 * Polls the page's data-counts-url (numbers only, no one's place or words) every
 * data-poll-ms and writes them into the cells marked data-safety-cell="incident:division:status"
 * and the totals marked data-safety-total="incident:reports|people". An incident that appears
 * or goes is a change of page: it reloads then.
 */
(function () {
  "use strict";

  var page = document.querySelector('[data-testid="safety-page"]');
  if (!page) { return; }
  var url = page.getAttribute("data-counts-url");
  var every = parseInt(page.getAttribute("data-poll-ms"), 10) || 5000;

  function shownIncidents() {
    return Array.prototype.map.call(page.querySelectorAll('[data-testid^="safety-incident-"]'), function (el) {
      return el.getAttribute("data-testid").replace("safety-incident-", "");
    }).sort().join(",");
  }

  function set(el, field, value) {
    var target = el.querySelector('[data-field="' + field + '"]');
    if (target && target.textContent !== String(value)) { target.textContent = String(value); }
  }

  function apply(data) {
    var ids = data.incidents.map(function (i) { return String(i.id); }).sort().join(",");
    if (ids !== shownIncidents()) { window.location.reload(); return; }
    data.incidents.forEach(function (incident) {
      page.querySelectorAll('[data-safety-cell^="' + incident.id + ':"]').forEach(function (el) {
        var parts = el.getAttribute("data-safety-cell").split(":");
        var cell = (incident.cells[parts[1]] || {})[parts[2]] || { reports: 0, people: 0 };
        set(el, "reports", cell.reports);
        set(el, "people", cell.people);
      });
      ["reports", "people"].forEach(function (field) {
        var total = page.querySelector('[data-safety-total="' + incident.id + ":" + field + '"]');
        if (total && total.textContent !== String(incident[field])) { total.textContent = String(incident[field]); }
      });
    });
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) { apply(data); } })
      .catch(function () { /* the next poll tries again */ })
      .then(function () { window.setTimeout(poll, every); });
  }

  window.setTimeout(poll, every);
})();
