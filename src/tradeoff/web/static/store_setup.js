// Store setup: draw zones and pick positions by clicking on the plan, drag beacons and gateways to move
// them. Plain JS on top of forms that work without it; moves go through the /v1 API (CSRF header).
(function () {
  "use strict";

  var svg = document.getElementById("plan-svg");
  if (!svg) return;
  var siteId = svg.getAttribute("data-site");
  var height = parseFloat(svg.getAttribute("data-height"));
  var width = parseFloat(svg.getAttribute("data-width"));
  var tools = document.getElementById("plan-tools");
  var status = document.getElementById("plan-status");
  var draftZone = document.getElementById("draft-zone");
  var draftPoint = document.getElementById("draft-point");
  var mode = "";
  var zonePoints = [];

  if (tools) tools.hidden = false;

  function say(text) {
    if (status) status.textContent = text;
  }

  function round(value) {
    return Math.round(value * 10) / 10;
  }

  // Screen position → plan metres (origin bottom-left, like the stored plan).
  function toPlan(event) {
    var point = svg.createSVGPoint();
    point.x = event.clientX;
    point.y = event.clientY;
    var local = point.matrixTransform(svg.getScreenCTM().inverse());
    return {
      x: round(Math.min(Math.max(local.x, 0), width)),
      y: round(Math.min(Math.max(height - local.y, 0), height)),
    };
  }

  function setValue(id, value) {
    var input = document.getElementById(id);
    if (input) input.value = value;
  }

  function drawDraft() {
    draftZone.setAttribute("points", zonePoints.map(function (p) { return p.x + "," + (height - p.y); }).join(" "));
  }

  function setMode(next) {
    mode = next;
    if (mode === "zone") {
      zonePoints = [];
      drawDraft();
      setValue("zone-points", "");
      say("Click the corners of the zone, then name it below and save.");
    } else if (mode === "beacon") {
      say("Click where the beacon is, then fill in its identity below and add it.");
    } else if (mode === "gateway") {
      say("Click where the gateway is, then choose it below and place it.");
    } else {
      say("Drag a beacon or gateway to move it.");
    }
    svg.setAttribute("data-mode", mode);
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-mode]"), function (button) {
    if (button.tagName !== "BUTTON") return;
    button.addEventListener("click", function () { setMode(button.getAttribute("data-mode")); });
  });

  svg.addEventListener("click", function (event) {
    if (!mode || dragged) return;
    var at = toPlan(event);
    if (mode === "zone") {
      zonePoints.push(at);
      drawDraft();
      setValue("zone-points", zonePoints.map(function (p) { return p.x + "," + p.y; }).join(" "));
      say(zonePoints.length + " corner(s); " + (zonePoints.length < 3 ? "keep clicking." : "name the zone below and save."));
      return;
    }
    draftPoint.setAttribute("cx", at.x);
    draftPoint.setAttribute("cy", height - at.y);
    setValue(mode + "-x", at.x);
    setValue(mode + "-y", at.y);
    say("Position " + at.x + ", " + at.y + " m set in the " + mode + " form below.");
  });

  // The API may answer just before its transaction is visible to the next read: wait until a read shows
  // the new position, then reload so the tables and zones are drawn by the server.
  function confirmSaved(kind, base, id, body, tries) {
    var path = kind === "beacon" ? base + "/beacons/" + encodeURIComponent(id) : base + "/gateways";
    window.tradeoff.api(path).then(function (doc) {
      var item = kind === "beacon" ? doc : (doc.gateways || []).filter(function (g) { return g.device_id === id; })[0];
      if ((item && item.x_m === body.x_m && item.y_m === body.y_m) || tries <= 0) {
        window.location.reload();
      } else {
        setTimeout(function () { confirmSaved(kind, base, id, body, tries - 1); }, 100);
      }
    }, function () { window.location.reload(); });
  }

  // Dragging a marker moves it; on release the new position is saved and the page reloaded.
  var dragging = null;
  var dragged = false;

  svg.addEventListener("pointerdown", function (event) {
    var marker = event.target.closest ? event.target.closest("[data-drag]") : null;
    if (!marker || mode) return;
    dragging = marker;
    dragged = false;
    svg.setPointerCapture(event.pointerId);
    event.preventDefault();
  });

  svg.addEventListener("pointermove", function (event) {
    if (!dragging) return;
    var at = toPlan(event);
    dragged = true;
    dragging.setAttribute("transform", "translate(" + at.x + "," + (height - at.y) + ")");
    dragging.setAttribute("data-x", at.x);
    dragging.setAttribute("data-y", at.y);
  });

  svg.addEventListener("pointerup", function () {
    if (!dragging) return;
    var marker = dragging;
    dragging = null;
    if (!dragged) return;
    var body = { x_m: parseFloat(marker.getAttribute("data-x")), y_m: parseFloat(marker.getAttribute("data-y")) };
    var id = encodeURIComponent(marker.getAttribute("data-id"));
    var base = "/v1/sites/" + encodeURIComponent(siteId);
    var request = marker.getAttribute("data-drag") === "beacon"
      ? window.tradeoff.api(base + "/beacons/" + id, { method: "PATCH", body: body })
      : window.tradeoff.api(base + "/gateways/" + id + "/placement", { method: "PUT", body: body });
    say("Saving…");
    request.then(function () {
      confirmSaved(marker.getAttribute("data-drag"), base, marker.getAttribute("data-id"), body, 20);
    }, function (error) { say("Not saved: " + error.message); });
    setTimeout(function () { dragged = false; }, 0);
  });
})();
