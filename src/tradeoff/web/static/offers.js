// Offer pages: the campaign editor shows only the fields that apply to the chosen kinds, and the live map
// refreshes its zone counts from a JSON endpoint. Both pages work without this script.
(function () {
  "use strict";

  // <div data-show="trigger.kind=dwell,enter_zone">: shown only while that select has one of the values.
  function conditionalFields(form) {
    var wrappers = form.querySelectorAll("[data-show]");
    function update() {
      wrappers.forEach(function (wrapper) {
        var rule = wrapper.getAttribute("data-show").split("=");
        var select = form.elements.namedItem(rule[0]);
        var input = wrapper.querySelector("input");
        var invalid = input && input.getAttribute("aria-invalid") === "true";
        wrapper.hidden = !!select && rule[1].split(",").indexOf(select.value) === -1 && !invalid;
      });
    }
    form.addEventListener("change", update);
    update();
  }

  // Polls the map's JSON every data-interval seconds; counts come already suppressed ("< k") from the server.
  function liveMap(svg) {
    var url = svg.getAttribute("data-poll");
    var interval = 1000 * parseFloat(svg.getAttribute("data-interval") || "5");
    var status = document.getElementById("live-status");
    var delay = interval;
    var timer = null;

    function setStatus(text, state) {
      if (!status) return;
      status.textContent = text;
      status.setAttribute("data-state", state);
    }

    function apply(body) {
      body.zones.forEach(function (zone) {
        document.querySelectorAll('[data-count-for="' + CSS.escape(zone.zone) + '"]').forEach(function (el) {
          el.textContent = zone.text;
        });
        var fill = svg.querySelector('[data-fill-for="' + CSS.escape(zone.zone) + '"]');
        if (fill) fill.setAttribute("fill-opacity", (0.08 + 0.5 * zone.level).toFixed(3));
      });
      var when = body.updated_at ? window.tradeoff.formatTime(body.updated_at) : "no reading yet";
      setStatus("live · updated " + when, "live");
    }

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (response) {
        if (response.redirected && response.url.indexOf("/login") !== -1) {
          window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname));
          return null;
        }
        if (!response.ok) throw new Error(response.statusText);
        return response.json();
      }).then(function (body) {
        if (!body) return;
        apply(body);
        delay = interval;
        schedule();
      }, function () {
        setStatus("reconnecting\u2026", "down");
        delay = Math.min(delay * 2, 60000);
        schedule();
      });
    }

    function schedule() {
      window.clearTimeout(timer);
      if (!document.hidden) timer = window.setTimeout(poll, delay);
    }

    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) poll(); // catch up at once when the tab comes back; no polling while hidden
    });
    schedule();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("campaign-form");
    if (form) conditionalFields(form);
    var svg = document.getElementById("live-svg");
    if (svg && svg.getAttribute("data-poll") && window.fetch) liveMap(svg);
  });
})();
