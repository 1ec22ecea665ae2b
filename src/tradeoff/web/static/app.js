// Tradeoff dashboard: a small helper for the /v1 API and the live event table. No build, no CDN.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // Calls the JSON API with the session cookie. Writes carry the CSRF token header, which the server
  // requires before it treats a cookie as a credential for anything but a read.
  function api(path, options) {
    var opts = Object.assign({ method: "GET", credentials: "same-origin" }, options || {});
    var headers = Object.assign({ Accept: "application/json" }, opts.headers || {});
    if (opts.method !== "GET" && opts.method !== "HEAD") {
      headers["X-CSRF-Token"] = csrfToken();
      if (opts.body !== undefined && typeof opts.body !== "string") {
        headers["Content-Type"] = "application/json";
        opts.body = JSON.stringify(opts.body);
      }
    }
    opts.headers = headers;
    return fetch(path, opts).then(function (response) {
      if (response.status === 401) {
        window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname));
      }
      return response.status === 204 ? null : response.json().then(function (body) {
        if (!response.ok) {
          var error = new Error((body && body.error && body.error.message) || response.statusText);
          error.status = response.status;
          error.body = body;
          throw error;
        }
        return body;
      });
    });
  }

  function formatTime(iso) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) return iso;
    return date.toISOString().slice(0, 19).replace("T", " ") + " UTC";
  }

  function compactJson(value, limit) {
    var text = JSON.stringify(value);
    if (text === undefined) return "";
    limit = limit || 160;
    return text.length <= limit ? text : text.slice(0, limit - 1) + "\u2026";
  }

  function cell(row, text, className, code) {
    var td = row.insertCell(-1);
    if (className) td.className = className;
    if (code) {
      var el = document.createElement("code");
      if (code !== true) el.className = code;
      el.textContent = text;
      td.appendChild(el);
    } else {
      td.textContent = text;
    }
  }

  function matches(row, needle) {
    return !needle || row.textContent.toLowerCase().indexOf(needle) !== -1;
  }

  function liveEvents(table) {
    var body = table.tBodies[0];
    var status = document.getElementById("live-status");
    var filter = document.getElementById("event-filter");
    var maxRows = parseInt(table.getAttribute("data-max-rows") || "200", 10);
    var cursor = parseInt(table.getAttribute("data-after-seq") || "0", 10);
    var streamUrl = table.getAttribute("data-stream");
    var source = null;
    var retryMs = 1000;

    function setStatus(text, state) {
      if (!status) return;
      status.textContent = text;
      status.setAttribute("data-state", state);
    }

    function needle() {
      return filter ? filter.value.trim().toLowerCase() : "";
    }

    function addRow(event) {
      var placeholder = body.querySelector("tr.empty-row");
      if (placeholder) placeholder.remove();
      var row = body.insertRow(0);
      row.setAttribute("data-event-id", event.event_id);
      row.setAttribute("data-seq", String(event.seq));
      row.className = "fresh";
      cell(row, String(event.seq), "num");
      cell(row, formatTime(event.received_at), "time");
      cell(row, event.type);
      cell(row, event.source, null, true);
      cell(row, event.event_id, null, true);
      cell(row, compactJson(event.payload), null, "json");
      row.hidden = !matches(row, needle());
      while (body.rows.length > maxRows) body.deleteRow(-1);
    }

    function connect() {
      source = new EventSource(streamUrl + "?after_seq=" + encodeURIComponent(String(cursor)));
      source.addEventListener("open", function () {
        retryMs = 1000;
        setStatus("live", "live");
      });
      source.addEventListener("event", function (message) {
        var event = JSON.parse(message.data);
        if (event.seq <= cursor) return; // already shown (rendered by the server or before a reconnect)
        cursor = event.seq;
        addRow(event);
      });
      source.addEventListener("error", function () {
        source.close();
        setStatus("reconnecting\u2026", "down");
        // A 401 means the session ended: go to the login form instead of retrying forever.
        fetch("/v1/events?limit=1", { credentials: "same-origin" }).then(function (response) {
          if (response.status === 401) {
            window.location.assign("/login?next=" + encodeURIComponent("/events"));
          }
        }, function () {});
        window.setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, 30000);
      });
    }

    if (filter) {
      filter.addEventListener("input", function () {
        var value = needle();
        Array.prototype.forEach.call(body.rows, function (row) {
          if (!row.classList.contains("empty-row")) row.hidden = !matches(row, value);
        });
      });
    }
    window.addEventListener("pagehide", function () {
      if (source) source.close();
    });
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) connect(); // restored from the back/forward cache with a closed stream
    });
    connect();
  }

  window.tradeoff = { api: api, csrfToken: csrfToken, formatTime: formatTime, compactJson: compactJson };

  document.addEventListener("DOMContentLoaded", function () {
    var table = document.getElementById("events");
    if (table && table.getAttribute("data-stream") && "EventSource" in window) liveEvents(table);
  });
})();
