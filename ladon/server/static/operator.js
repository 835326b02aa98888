/* The operator page: tasks from /_ladon/api/tasks every two seconds,
 * progress bars, cancel buttons, and a chart of the last 15 minutes.
 * Every pending and running task is listed (the API's "active", up to
 * its cap), then the 200 most recent; the chart counts every task that
 * finished (the API's "throughput", counted by the store). */
(function () {
  "use strict";
  var root = document.getElementById("operator");
  if (!root) { return; }
  var api = root.getAttribute("data-api");
  var body = document.querySelector("#op-tasks tbody");
  var statusEl = document.getElementById("op-status");
  var countsEl = document.getElementById("op-counts");
  var empty = document.getElementById("op-empty");
  var form = document.getElementById("op-filters");
  var STATES = ["pending", "running", "succeeded", "failed", "cancelled"];
  var MINUTES = 15;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function seconds(value) {
    if (value < 1) { return (value * 1000).toFixed(0) + " ms"; }
    if (value < 120) { return value.toFixed(1) + " s"; }
    return (value / 60).toFixed(1) + " min";
  }

  function query() {
    var params = ["limit=200", "active=1", "throughput=" + MINUTES];
    ["state", "service", "method"].forEach(function (name) {
      var value = form.elements[name].value.trim();
      if (value) { params.push(name + "=" + encodeURIComponent(value)); }
    });
    return api + "?" + params.join("&");
  }

  function cancel(task, button) {
    button.disabled = true;
    fetch(api + "/" + encodeURIComponent(task.id) + "/cancel", {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json"},
      body: "{}"
    }).then(function (response) {
      statusEl.textContent = response.ok ? "Cancel requested for " + task.id.slice(0, 8) : "Cancel refused (" + response.status + ")";
      refresh();
    });
  }

  function row(task) {
    var tr = el("tr", "op-task state-" + task.state);
    tr.setAttribute("data-task-id", task.id);
    var name = el("td", "op-name");
    name.appendChild(el("code", "", task.task));
    var shortId = el("div", "op-id muted", task.id.slice(0, 12));
    shortId.title = task.id;
    name.appendChild(shortId);
    tr.appendChild(name);
    tr.appendChild(el("td", "op-state", task.state));
    var cell = el("td", "op-progress-col");
    var bar = el("div", "progress");
    bar.setAttribute("role", "progressbar");
    bar.setAttribute("aria-valuemin", "0");
    bar.setAttribute("aria-valuemax", "100");
    bar.setAttribute("aria-valuenow", String(Math.round(task.progress * 100)));
    var fill = el("div", "progress-fill");
    fill.style.width = Math.round(task.progress * 100) + "%";
    bar.appendChild(fill);
    cell.appendChild(bar);
    cell.appendChild(el("span", "op-percent", Math.round(task.progress * 100) + "%"));
    tr.appendChild(cell);
    tr.appendChild(el("td", "op-duration", task.started === null ? "waiting" : seconds(task.duration)));
    tr.appendChild(el("td", "op-principal", task.principal || "anonymous"));
    // a method without retries has one attempt: nothing to say
    tr.appendChild(el("td", "op-attempt", task.attempts > 1 ? task.attempt + " of " + task.attempts : ""));
    tr.appendChild(el("td", "op-message", task.state === "failed" ? (task.error || task.message || "") : (task.message || "")));
    // how the completion callback goes; nothing for a task without one
    var callback = el("td", "op-callback", task.callback || "");
    if (task.callback) { callback.setAttribute("data-callback", task.callback.split(" ")[0]); }
    tr.appendChild(callback);
    var action = el("td", "op-action");
    if (task.state === "pending" || task.state === "running") {
      var button = el("button", "op-cancel", "Cancel");
      button.type = "button";
      button.addEventListener("click", function () { cancel(task, button); });
      action.appendChild(button);
    }
    tr.appendChild(action);
    return tr;
  }

  function drawChart(throughput) {
    var canvas = document.getElementById("op-chart");
    if (!canvas || !canvas.getContext || !throughput) { return; }
    var ctx = canvas.getContext("2d");
    var slots = throughput.per_minute;
    var minutes = slots.length;
    var counts = slots.map(function (m) { return m.finished; });
    var means = slots.map(function (m) { return m.mean_duration; });
    canvas.setAttribute("data-finished", String(counts.reduce(function (a, b) { return a + b; }, 0)));
    var w = canvas.width, h = canvas.height, pad = 18;
    ctx.clearRect(0, 0, w, h);
    var maxCount = Math.max(1, Math.max.apply(null, counts));
    var maxMean = Math.max(0.001, Math.max.apply(null, means));
    var slotW = (w - 2 * pad) / minutes;
    ctx.fillStyle = "#6c8ebf";
    counts.forEach(function (c, k) {
      var bh = (h - 2 * pad) * c / maxCount;
      ctx.fillRect(pad + k * slotW + 2, h - pad - bh, slotW - 4, bh);
    });
    ctx.strokeStyle = "#d9822b";
    ctx.lineWidth = 2;
    ctx.beginPath();
    means.forEach(function (m, k) {
      var x = pad + k * slotW + slotW / 2, y = h - pad - (h - 2 * pad) * m / maxMean;
      if (k === 0) { ctx.moveTo(x, y); } else { ctx.lineTo(x, y); }
    });
    ctx.stroke();
    ctx.fillStyle = "#555";
    ctx.font = "11px sans-serif";
    ctx.fillText(maxCount + "/min", 2, 11);
    ctx.fillText("max " + seconds(maxMean), w - 90, 11);
    ctx.fillText("-" + minutes + " min", pad, h - 4);
    ctx.fillText("now", w - pad - 20, h - 4);
  }

  function listed(data) {
    // the pending and running tasks first (however old), then the recent ones
    var seen = {}, rows = [];
    (data.active || []).concat(data.tasks).forEach(function (task) {
      if (seen[task.id]) { return; }
      seen[task.id] = true;
      rows.push(task);
    });
    return rows;
  }

  function render(data) {
    var rows = listed(data);
    body.textContent = "";
    rows.forEach(function (task) { body.appendChild(row(task)); });
    empty.hidden = rows.length > 0;
    countsEl.textContent = "";
    STATES.forEach(function (s) {
      var pill = el("span", "pill op-count state-" + s, s + " " + (data.counts[s] || 0));
      pill.setAttribute("data-state", s);
      countsEl.appendChild(pill);
    });
    drawChart(data.throughput);
    root.setAttribute("data-refreshed", String(Date.now()));
  }

  var timer = null;
  function refresh() {
    if (timer !== null) { clearTimeout(timer); }
    fetch(query(), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (!response.ok) { throw new Error("the task API answered " + response.status); }
        return response.json();
      })
      .then(function (data) { render(data); })
      .catch(function (error) { statusEl.textContent = String(error.message || error); })
      .then(function () { timer = setTimeout(refresh, 2000); });
  }
  form.addEventListener("input", function () { refresh(); });
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  refresh();
}());
