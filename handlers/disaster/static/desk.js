/* The disaster desk's pages (no inline scripts: the CSP allows files from this server only).
 *
 * - Incident form: only evacuation sites designated for the chosen hazard can be ticked
 *   (the server checks it too); ticking a district opens its list of sites.
 * - A site's staff link: the copy button copies it (or selects it where the clipboard is
 *   not allowed, so a long press copies it).
 * (The broadcast page's progress bar is progress.js, shared with the pushes pages.)
 */
(function () {
  "use strict";

  function hazardOf(form) {
    var select = form.querySelector(".js-hazard");
    return select ? select.value : form.getAttribute("data-hazard");
  }

  function updateShelters(form) {
    var hazard = hazardOf(form);
    form.querySelectorAll(".js-shelter").forEach(function (box) {
      var suitable = !hazard || (" " + box.getAttribute("data-hazards") + " ").indexOf(" " + hazard + " ") >= 0;
      box.disabled = !suitable;
      if (!suitable) { box.checked = false; }
      box.closest("label").classList.toggle("unsuitable", !suitable);
    });
  }

  function setUpIncidentForm(form) {
    var select = form.querySelector(".js-hazard");
    if (select) {
      select.addEventListener("change", function () { updateShelters(form); });
    }
    form.querySelectorAll(".js-district").forEach(function (box) {
      box.addEventListener("change", function () {
        var group = form.querySelector('details[data-district="' + box.value + '"]');
        if (group && box.checked) { group.open = true; }
      });
    });
    updateShelters(form);
  }

  document.querySelectorAll(".js-copy").forEach(function (button) {
    button.addEventListener("click", function () {
      var field = document.getElementById(button.getAttribute("data-copy"));
      var done = button.parentNode.querySelector(".js-copied");
      field.select();
      var shown = function () { if (done) { done.hidden = false; } };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(shown, function () {});
      } else if (document.execCommand && document.execCommand("copy")) {
        shown();
      }
    });
  });

  document.querySelectorAll('[data-testid="incident-form"], [data-testid="incident-change-form"]').forEach(setUpIncidentForm);
})();
