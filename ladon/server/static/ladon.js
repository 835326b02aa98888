/* Ladon service page console.
 *
 * Builds a form for each method from the JSON model embedded in the page
 * (<script id="ladon-model">), calls the method through JSON-WSP
 * (POST <endpoint> {"methodname": m, "args": {...}}) and shows the result
 * or the fault. A required field left empty stops the call before anything
 * is sent, with a message naming the field. A task method is started, then
 * followed with m_wait (progress bar, state, message) until it ends: each
 * call returns as soon as the task has ended, or after pollMs with its
 * progress, and the next one is sent at once (no timer polls; where the
 * server refuses a wait, m_progress is asked instead, every pollMs), its
 * Start button disabled meanwhile; m_cancel asks it to stop (it is
 * followed on until it has stopped) and m_result fetches its value. A task
 * that failed or was cancelled keeps the bar where it was before its end.
 * Credentials typed into the page's Authentication panel (Basic or Bearer)
 * go with every call as an Authorization header; they live in the page's
 * inputs only. Plain JavaScript, no dependencies; every value from the page
 * model or a response is written with textContent.
 */
(function () {
  "use strict";

  var page = document.getElementById("service");
  var modelElement = document.getElementById("ladon-model");
  if (!page || !modelElement) {
    return;
  }
  var model = JSON.parse(modelElement.textContent);
  var endpoint = page.getAttribute("data-endpoint");
  var pollMs = Number(page.getAttribute("data-poll-ms")) || 400;
  // how long one m_wait call may wait for the task's end (the progress is
  // shown after each): as often as polls were
  var waitSeconds = Number(page.getAttribute("data-wait-seconds")) || pollMs / 1000;
  // "same-origin": calls carry what the browser holds for the site (the
  // login of protected pages, a front server's cookie); "omit": only the
  // credentials typed into the page, and a refusal never opens the
  // browser's password prompt.
  var credentialsMode = page.getAttribute("data-credentials") === "omit" ? "omit" : "same-origin";
  var TERMINAL = { succeeded: true, failed: true, cancelled: true };
  var MAX_DEPTH = 6;
  var uid = 0;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) {
        return;
      }
      if (key === "text") {
        node.textContent = value;
      } else if (key === "className") {
        node.className = value;
      } else {
        node.setAttribute(key, value === true ? "" : String(value));
      }
    });
    (children || []).forEach(function (child) {
      if (child) {
        node.appendChild(child);
      }
    });
    return node;
  }

  function typeLabel(type) {
    if (typeof type === "string") {
      return type;
    }
    if (type.list !== undefined) {
      var itemRules = type.itemRules && type.itemRules.text ? " (" + type.itemRules.text.join(", ") + ")" : "";
      return "[" + typeLabel(type.list) + itemRules + "]";
    }
    return type.ref;
  }

  function marks(spec) {
    var out = [];
    if (spec.optional) {
      out.push(spec.default === null || spec.default === undefined
        ? "optional"
        : "optional, default " + JSON.stringify(spec.default));
    }
    if (spec.nullable) {
      out.push("nullable");
    }
    if (spec.rules && spec.rules.text) {
      out.push(spec.rules.text.join(", "));
    }
    return out.join(" · ");
  }

  // -- widgets: {element, read() -> {present, value}} ------------------------

  var INT_RE = /^[-+]?\d{1,15}$/;
  var FLOAT_RE = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

  // A parameter, field or list item that must be given: not optional and
  // not nullable (an empty nullable parameter is sent as null).
  function isRequired(spec) {
    return !spec.optional && !spec.nullable;
  }

  // "1 item", "3 characters": a length as the server words it.
  function count(n, unit) {
    return n + " " + unit + (n === 1 ? "" : "s");
  }

  // The length rule (minLength/maxLength, or minItems/maxItems for a list)
  // a length breaks, worded as the server words it; null when it keeps it.
  function lengthProblem(n, low, high, unit) {
    if (low !== undefined && low === high) {
      return n === low ? null : "must have exactly " + count(low, unit);
    }
    if (low !== undefined && n < low) { return "must have at least " + count(low, unit); }
    if (high !== undefined && n > high) { return "must have at most " + count(high, unit); }
    return null;
  }

  // The first declared rule (page model "rules": JSON Schema keywords) a
  // value breaks, worded as the server words it; null when it keeps them.
  // A list (an array) is checked for its number of items; its items have
  // rules of their own (the list type's "itemRules").
  function ruleProblem(rules, value) {
    if (!rules) {
      return null;
    }
    if (Array.isArray(value)) {
      return lengthProblem(value.length, rules.minItems, rules.maxItems, "item");
    }
    if (typeof value === "number") {
      if (rules.minimum !== undefined && !(value >= rules.minimum)) { return "must be ≥ " + rules.minimum; }
      if (rules.exclusiveMinimum !== undefined && !(value > rules.exclusiveMinimum)) { return "must be > " + rules.exclusiveMinimum; }
      if (rules.maximum !== undefined && !(value <= rules.maximum)) { return "must be ≤ " + rules.maximum; }
      if (rules.exclusiveMaximum !== undefined && !(value < rules.exclusiveMaximum)) { return "must be < " + rules.exclusiveMaximum; }
    }
    if (typeof value === "string") {
      var length = lengthProblem(Array.from(value).length, rules.minLength, rules.maxLength, "character");
      if (length) { return length; }
      if (rules.pattern !== undefined) {
        try {
          if (!new RegExp(rules.pattern).test(value)) { return "must match " + rules.patternText; }
        } catch (e) {
          return null; // the server checks it
        }
      }
    }
    if (rules["enum"] !== undefined && rules["enum"].indexOf(value) < 0) {
      return "must be one of " + rules["enum"].join(", ");
    }
    return null;
  }

  function choiceWidget(type, spec, id) {
    var choices = spec.rules["enum"];
    var select = el("select", { id: id, "data-type": type });
    select.appendChild(el("option", { value: "", text: isRequired(spec) ? "— choose —" : "(not sent)" }));
    choices.forEach(function (choice, i) {
      var option = el("option", { value: String(i), text: String(choice) });
      if (spec.optional && spec["default"] === choice) {
        option.selected = true;
      }
      select.appendChild(option);
    });
    var error = el("p", { className: "field-error", id: id + "-error", role: "alert", hidden: true });
    select.setAttribute("aria-describedby", error.id);
    return {
      element: el("div", { className: "control" }, [select, error]),
      read: function (problems, path) {
        error.hidden = true;
        select.classList.remove("invalid");
        if (select.value === "") {
          if (isRequired(spec)) {
            select.classList.add("invalid");
            error.textContent = path + " is required";
            error.hidden = false;
            problems.push({ path: path, input: select });
            return { present: false };
          }
          return spec.nullable && !spec.optional ? { present: true, value: null } : { present: false };
        }
        return { present: true, value: choices[Number(select.value)] };
      }
    };
  }

  function scalarWidget(type, spec, id) {
    if (spec.rules && spec.rules["enum"] !== undefined) {
      return choiceWidget(type, spec, id);
    }
    if (type === "bool") {
      var box = el("input", { type: "checkbox", id: id, "data-type": "bool" });
      box.checked = spec.default === true;
      return {
        element: box,
        read: function () { return { present: true, value: box.checked }; }
      };
    }
    if (type === "attachment") {
      var off = el("input", { type: "text", id: id, disabled: true, placeholder: "attachment (not from the console)" });
      return { element: off, read: function () { return { present: false }; } };
    }
    var placeholders = {
      int: "integer", float: "number", decimal: "exact decimal, e.g. 12.50",
      date: "YYYY-MM-DD", datetime: "YYYY-MM-DDTHH:MM:SS", str: "text", bytes: "text"
    };
    var hasDefault = spec.optional && spec.default !== null && spec.default !== undefined;
    var input = el("input", {
      type: "text",
      id: id,
      "data-type": type,
      minlength: spec.rules ? spec.rules.minLength : null,
      maxlength: spec.rules ? spec.rules.maxLength : null,
      min: spec.rules ? spec.rules.minimum : null,
      max: spec.rules ? spec.rules.maximum : null,
      title: spec.rules && spec.rules.text ? spec.rules.text.join(", ") : null,
      inputmode: (type === "int" || type === "float" || type === "decimal") ? "decimal" : null,
      placeholder: hasDefault ? "default: " + String(spec.default) : placeholders[type] || "",
      autocomplete: "off",
      spellcheck: "false"
    });
    var error = el("p", { className: "field-error", id: id + "-error", role: "alert", hidden: true });
    input.setAttribute("aria-describedby", error.id);

    function flag(path, rule) {
      input.classList.add("invalid");
      input.setAttribute("aria-invalid", "true");
      error.textContent = path + (rule ? " " + rule : " is required");
      error.hidden = false;
    }

    // A value breaking a declared rule is refused here, as the server would.
    function checked(problems, path, value) {
      var rule = ruleProblem(spec.rules, value);
      if (rule) {
        flag(path, rule);
        problems.push({ path: path, input: input, rule: rule });
      }
      return { present: true, value: value };
    }

    function unflag() {
      input.classList.remove("invalid");
      input.removeAttribute("aria-invalid");
      error.hidden = true;
      error.textContent = "";
    }

    input.addEventListener("input", unflag);
    return {
      element: el("div", { className: "control" }, [input, error]),
      // problems: where a required value that is missing is recorded
      // ({path, input}); path: how the server names this value.
      read: function (problems, path) {
        var text = input.value;
        var trimmed = text.trim();
        var empty = (type === "str" || type === "bytes") ? text === "" : trimmed === "";
        unflag();
        if (empty) {
          if (isRequired(spec)) {
            flag(path);
            problems.push({ path: path, input: input });
            return { present: false };
          }
          if (spec.nullable && !spec.optional) {
            return { present: true, value: null };
          }
          return { present: false };
        }
        if (type === "str" || type === "bytes") {
          return checked(problems, path, text);
        }
        if (type === "int" && INT_RE.test(trimmed)) {
          return checked(problems, path, Number(trimmed));
        }
        if (type === "float" && FLOAT_RE.test(trimmed) && isFinite(Number(trimmed))) {
          return checked(problems, path, Number(trimmed));
        }
        // Anything else goes as text: the service says what is wrong with it.
        return { present: true, value: trimmed };
      }
    };
  }

  function listWidget(type, spec, id, depth) {
    var items = el("div", { className: "list-items" });
    var add = el("button", { type: "button", className: "btn btn-small add-item", text: "+ add item" });
    var error = el("p", { className: "field-error", id: id + "-error", role: "alert", hidden: true });
    // its own count: a list of lists holds the counts of its items' lists too
    var counter = el("span", { className: "hint count", text: "0 items" });
    var group = el("div", { className: "group list", id: id, "data-type": typeLabel(type) }, [
      items,
      el("div", { className: "group-head" }, [add, counter]),
      error
    ]);
    group.setAttribute("aria-describedby", error.id);
    var entries = [];

    function unflag() {
      group.classList.remove("invalid");
      error.hidden = true;
      error.textContent = "";
    }

    function recount() {
      counter.textContent = count(entries.length, "item");
      unflag();
    }

    function addItem() {
      // each item keeps the rules its list type declares for items
      var itemSpec = { name: "item", optional: false, nullable: false, default: null, rules: type.itemRules };
      var widget = build(type.list, itemSpec, id + "-" + (uid++), depth + 1);
      var remove = el("button", { type: "button", className: "btn btn-small remove-item", text: "remove", "aria-label": "remove item" });
      var row = el("div", { className: "list-item" }, [widget.element, remove]);
      var entry = { widget: widget, row: row };
      remove.addEventListener("click", function () {
        entries.splice(entries.indexOf(entry), 1);
        row.remove();
        recount();
      });
      entries.push(entry);
      items.appendChild(row);
      recount();
      var focusable = row.querySelector("input");
      if (focusable) {
        focusable.focus();
      }
    }

    add.addEventListener("click", addItem);
    return {
      element: group,
      read: function (problems, path) {
        var values = [];
        var before = problems.length;
        entries.forEach(function (entry, i) {
          var got = entry.widget.read(problems, path + "[" + i + "]");
          if (got.present) {
            values.push(got.value);
          }
        });
        unflag();
        if (values.length === 0 && spec.optional) {
          return { present: false };
        }
        // the number of items sent, once the items themselves are right: a
        // list breaking its length rule is refused here, as the server would
        var rule = problems.length === before ? ruleProblem(spec.rules, values) : null;
        if (rule) {
          group.classList.add("invalid");
          error.textContent = path + " " + rule;
          error.hidden = false;
          problems.push({ path: path, input: add, rule: rule });
        }
        return { present: true, value: values };
      }
    };
  }

  function objectWidget(type, spec, id, depth) {
    var definition = model.types[type.ref] || { fields: [] };
    var body = el("div", { className: "group-fields fields" });
    var group = el("div", { className: "group nested", id: id, "data-type": type.ref });
    var fields = null;
    var optional = spec.optional || spec.nullable;
    var include = null;

    function fill() {
      if (fields !== null) {
        return;
      }
      fields = definition.fields.map(function (f) {
        var fid = id + "-" + f.name;
        var widget = build(f.type, f, fid, depth + 1);
        body.appendChild(row(f, fid, widget));
        return { spec: f, widget: widget };
      });
    }

    if (optional || depth >= MAX_DEPTH) {
      include = el("input", { type: "checkbox", className: "include", id: id + "-include" });
      var label = el("label", { for: id + "-include", text: "send a " + type.ref + (spec.nullable ? " (unchecked: null)" : "") });
      group.appendChild(el("div", { className: "group-head" }, [include, label]));
      body.hidden = true;
      include.addEventListener("change", function () {
        if (include.checked) {
          fill();
        }
        body.hidden = !include.checked;
      });
    } else {
      fill();
    }
    group.appendChild(body);
    return {
      element: group,
      read: function (problems, path) {
        if (include && !include.checked) {
          return { present: false };
        }
        var value = {};
        fields.forEach(function (f) {
          var got = f.widget.read(problems, path + "." + f.spec.name);
          if (got.present) {
            value[f.spec.name] = got.value;
          }
        });
        return { present: true, value: value };
      }
    };
  }

  function build(type, spec, id, depth) {
    if (typeof type === "string") {
      return scalarWidget(type, spec, id);
    }
    if (type.list !== undefined) {
      return listWidget(type, spec, id, depth);
    }
    return objectWidget(type, spec, id, depth);
  }

  function row(spec, id, widget) {
    var label = el("label", { for: id }, [
      document.createTextNode(spec.name),
      el("span", { className: "ftype", text: typeLabel(spec.type) + (marks(spec) ? " · " + marks(spec) : "") })
    ]);
    return el("div", { className: "field", "data-field": spec.name }, [label, widget.element]);
  }

  // -- credentials --------------------------------------------------------------
  //
  // Typed into the page's Authentication panel and read from its inputs at
  // each call: never stored (no cookie, no storage), gone with the page.

  var credScheme = document.getElementById("cred-scheme");

  function showCredentialFields() {
    var scheme = credScheme ? credScheme.value : "";
    Array.prototype.forEach.call(document.querySelectorAll(".cred-basic"), function (node) {
      node.hidden = scheme !== "Basic";
    });
    Array.prototype.forEach.call(document.querySelectorAll(".cred-bearer"), function (node) {
      node.hidden = scheme !== "Bearer";
    });
  }

  if (credScheme) {
    credScheme.addEventListener("change", showCredentialFields);
    showCredentialFields();
  }

  function base64Utf8(text) {
    var bytes = new TextEncoder().encode(text);
    var binary = "";
    bytes.forEach(function (b) { binary += String.fromCharCode(b); });
    return window.btoa(binary);
  }

  // The Authorization header to send, or null.
  function authorization() {
    var scheme = credScheme ? credScheme.value : "";
    if (scheme === "Basic") {
      var user = document.getElementById("cred-user").value;
      var password = document.getElementById("cred-password").value;
      return user ? "Basic " + base64Utf8(user + ":" + password) : null;
    }
    if (scheme === "Bearer") {
      var token = document.getElementById("cred-token").value.trim();
      return token ? "Bearer " + token : null;
    }
    return null;
  }

  // -- calls ------------------------------------------------------------------

  function call(methodname, args) {
    var body = JSON.stringify({ methodname: methodname, args: args });
    var headers = { "Content-Type": "application/json; charset=utf-8", "Accept": "application/json" };
    var auth = authorization();
    if (auth) {
      headers.Authorization = auth;
    }
    return fetch(endpoint, {
      method: "POST",
      headers: headers,
      body: body,
      // typed credentials travel in their own header, never a prompt
      credentials: auth ? "omit" : credentialsMode
    }).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try {
          data = JSON.parse(text, exactIntegers);
        } catch (err) {
          data = null;
        }
        if (data && data.type === "jsonwsp/fault") {
          return { ok: false, fault: data.fault || {}, status: response.status };
        }
        if (data && data.type === "jsonwsp/response") {
          return { ok: true, result: data.result, status: response.status };
        }
        return {
          ok: false,
          status: response.status,
          fault: { code: "http", string: "HTTP " + response.status + " " + response.statusText, detail: [text.slice(0, 2000)] }
        };
      });
    }, function (err) {
      return { ok: false, fault: { code: "network", string: String(err), detail: [] } };
    });
  }

  function Console(details) {
    this.details = details;
    this.name = details.getAttribute("data-method");
    this.method = model.methods[this.name];
    this.isTask = details.hasAttribute("data-task");
    this.form = details.querySelector(".console-form");
    this.fieldsBox = details.querySelector(".fields");
    this.outcome = details.querySelector(".outcome");
    this.wire = details.querySelector(".wire");
    this.task = details.querySelector(".task");
    this.cancelButton = details.querySelector(".cancel");
    this.submitButton = details.querySelector("button[type=submit]");
    this.formError = null;
    this.widgets = [];
    this.run = 0;          // numbers the calls: answers of an older one are dropped
    this.busy = false;     // a call, or a task, is under way: no second start
    this.taskId = null;
    this.ended = false;    // the followed task has ended: its status is final
    this.lastPercent = 0;  // the progress shown before the task ended
    this.duration = NaN;
    this.built = false;
  }

  Console.prototype.build = function () {
    if (this.built) {
      return;
    }
    this.built = true;
    var self = this;
    var prefix = "c-" + this.name;
    this.method.params.forEach(function (p) {
      var id = prefix + "-" + p.name;
      var widget = build(p.type, p, id, 0);
      self.fieldsBox.appendChild(row(p, id, widget));
      self.widgets.push({ spec: p, widget: widget });
    });
    if (this.method.params.length === 0) {
      this.fieldsBox.appendChild(el("p", { className: "muted", text: "This method takes no arguments." }));
    }
    this.formError = el("p", { className: "form-error", role: "alert", hidden: true });
    this.submitButton.parentNode.appendChild(this.formError);
    this.form.addEventListener("submit", function (event) {
      event.preventDefault();
      self.submit();
    });
    if (this.cancelButton) {
      this.cancelButton.addEventListener("click", function () { self.cancel(); });
    }
    this.setState("idle");
  };

  Console.prototype.setState = function (state) {
    this.details.setAttribute("data-state", state);
  };

  // The arguments to send; every required value left empty is added to
  // problems (and marked in the form).
  Console.prototype.args = function (problems) {
    var args = {};
    this.widgets.forEach(function (w) {
      var got = w.widget.read(problems, w.spec.name);
      if (got.present) {
        args[w.spec.name] = got.value;
      }
    });
    return args;
  };

  Console.prototype.refuse = function (problems) {
    var broken = problems.filter(function (p) { return p.rule; });
    var names = problems.filter(function (p) { return !p.rule; }).map(function (p) { return p.path; });
    this.formError.textContent = broken.length
      ? "Not sent: " + broken.map(function (p) { return p.path + " " + p.rule; }).join("; ") + "."
      : names.length === 1
      ? "Not sent: the required field " + names[0] + " is empty."
      : "Not sent: the required fields " + names.join(", ") + " are empty.";
    this.formError.hidden = false;
    problems[0].input.focus();
  };

  // Integers beyond 2^53 (the JSON interfaces send any integer) would lose
  // digits as JavaScript numbers: kept as their text where the browser lets a
  // reviver read it (JSON.parse source text access), and shown as sent.
  function exactIntegers(key, value, context) {
    if (typeof value === "number" && !Number.isSafeInteger(value) && Number.isInteger(value) &&
        context && typeof context.source === "string" && /^-?[0-9]+$/.test(context.source)) {
      return { "ladon:integer": context.source };
    }
    return value;
  }

  function resultText(value) {
    var text = JSON.stringify(value, function (key, v) {
      // (no field of a LadonType is named with a colon)
      return v && typeof v === "object" && typeof v["ladon:integer"] === "string"
        ? "\u0000" + v["ladon:integer"] + "\u0000" : v;
    }, 2);
    return text === undefined ? text : text.replace(/"\\u0000(-?[0-9]+)\\u0000"/g, "$1");
  }

  Console.prototype.show = function (kind, title, text) {
    this.outcome.hidden = false;
    this.outcome.className = "outcome " + kind;
    this.outcome.querySelector(".outcome-title").textContent = title;
    this.outcome.querySelector(".outcome-body").textContent = text;
  };

  Console.prototype.showAnswer = function (answer) {
    if (answer.ok) {
      this.show("ok", "Result", resultText(answer.result));
      return;
    }
    var fault = answer.fault;
    var lines = [];
    (fault.detail || []).forEach(function (line) { lines.push(String(line)); });
    if (fault.hint) {
      lines.push("hint: " + fault.hint);
    }
    this.show("fault", "Fault (" + (fault.code || "?") + "): " + (fault.string || ""), lines.join("\n") || "(no detail)");
  };

  Console.prototype.setBusy = function (busy) {
    this.busy = busy;
    this.submitButton.disabled = busy;
  };

  Console.prototype.submit = function () {
    if (this.busy) {
      return; // a task runs: its console follows it until it ends
    }
    var self = this;
    var problems = [];
    var args = this.args(problems);
    if (problems.length > 0) {
      this.refuse(problems);
      return;
    }
    this.formError.hidden = true;
    var token = ++this.run;
    this.wire.hidden = false;
    this.wire.querySelector(".wire-request").textContent =
      "POST " + endpoint + "\n" + JSON.stringify({ methodname: this.name, args: args }, null, 2);
    this.outcome.hidden = true;
    this.setState("calling");
    this.setBusy(true);
    call(this.name, args).then(function (answer) {
      if (token !== self.run) {
        return;
      }
      if (!self.isTask || !answer.ok) {
        self.showAnswer(answer);
        self.setState(answer.ok ? "done" : "fault");
        self.setBusy(false);
        return;
      }
      self.follow(answer.result.task_id, token);
    });
  };

  function percentOf(value) {
    return Math.round(Math.max(0, Math.min(1, Number(value) || 0)) * 100);
  }

  // Show a status of the followed task. Every task that ended has progress
  // 1.0: a succeeded one shows 100%, a failed or cancelled one keeps the
  // bar where it was before its end, marked "<state> at N%". Nothing
  // changes once an end was shown (an answer that arrives late is older).
  Console.prototype.progress = function (status) {
    if (this.ended) {
      return;
    }
    var state = status.state || "pending";
    var ended = TERMINAL[state] === true;
    var stopped = ended && state !== "succeeded";
    var percent = percentOf(status.progress);
    if (stopped) {
      percent = this.lastPercent;
    } else {
      this.lastPercent = percent;
    }
    this.ended = ended;
    var bar = this.task.querySelector(".bar");
    bar.setAttribute("aria-valuenow", String(percent));
    bar.setAttribute("data-state", state);
    bar.classList.toggle("bar-stopped", stopped);
    bar.classList.toggle("bar-cancelled", state === "cancelled");
    bar.classList.toggle("bar-failed", state === "failed");
    bar.querySelector(".bar-fill").style.width = percent + "%";
    var text = stopped ? state + " at " + percent + "%" : percent + "%";
    bar.querySelector(".bar-label").textContent = text;
    bar.setAttribute("aria-valuetext", text);
    var label = this.task.querySelector(".task-state");
    label.textContent = state;
    label.setAttribute("data-state", state);
    this.duration = Number(status.duration);
    this.showMessage(status.message || "");
  };

  Console.prototype.showMessage = function (message) {
    var seconds = this.duration;
    if (isFinite(seconds)) {
      message = (message ? message + " · " : "") + seconds.toFixed(1) + " s";
    }
    this.task.querySelector(".task-message").textContent = message;
  };

  Console.prototype.follow = function (taskId, token) {
    var self = this;
    this.taskId = taskId;
    this.ended = false;
    this.lastPercent = 0;
    this.duration = NaN;
    this.task.hidden = false;
    this.task.querySelector(".task-id").textContent = "task " + taskId;
    this.progress({ state: "pending", progress: 0 });
    this.cancelButton.hidden = false;
    this.cancelButton.disabled = false;
    this.cancelButton.textContent = "Cancel task";
    this.setState("running");

    var waiting = true; // m_wait, until the server refuses one
    function poll() {
      if (token !== self.run) {
        return;
      }
      var ask = waiting
        ? call(self.name + "_wait", { task_id: taskId, timeout: waitSeconds })
        : call(self.name + "_progress", { task_id: taskId });
      ask.then(function (answer) {
        if (token !== self.run) {
          return;
        }
        if (!answer.ok && waiting) {
          // e.g. too many waiting calls on the server: ask m_progress instead
          waiting = false;
          window.setTimeout(poll, pollMs);
          return;
        }
        if (!answer.ok) {
          self.showAnswer(answer);
          self.finish("fault");
          return;
        }
        self.progress(answer.result);
        var state = answer.result.state;
        if (!TERMINAL[state]) {
          if (waiting) {
            poll(); // the wait itself took its time: ask again at once
          } else {
            window.setTimeout(poll, pollMs);
          }
          return;
        }
        if (state === "cancelled") {
          self.show("fault", "Cancelled", "The task was cancelled at " + self.lastPercent + "%; it has no result.");
          self.finish("cancelled");
          return;
        }
        call(self.name + "_result", { task_id: taskId }).then(function (result) {
          if (token !== self.run) {
            return;
          }
          self.showAnswer(result);
          if (state === "failed" && !result.ok) {
            // why it failed: what m_result says (the message of a failed
            // task may still be its last progress message)
            self.showMessage(result.fault.string || answer.result.message || "");
          }
          self.finish(result.ok ? "done" : state === "failed" ? "failed" : "fault");
        });
      });
    }
    poll();
  };

  Console.prototype.finish = function (state) {
    this.cancelButton.hidden = true;
    this.setState(state);
    this.setBusy(false);
  };

  Console.prototype.cancel = function () {
    var self = this;
    var token = this.run;
    if (!this.taskId || this.ended) {
      return;
    }
    this.cancelButton.disabled = true;
    this.cancelButton.textContent = "Cancel requested";
    call(this.name + "_cancel", { task_id: this.taskId }).then(function (answer) {
      if (token !== self.run) {
        return;
      }
      if (answer.ok) {
        // at once: "running" with "cancel requested" until the task stops
        // (the polling shows its end), or already "cancelled"
        self.progress(answer.result);
      } else {
        self.showAnswer(answer);
        self.cancelButton.disabled = false;
        self.cancelButton.textContent = "Cancel task";
      }
    });
  };

  var consoles = {};
  Array.prototype.forEach.call(document.querySelectorAll("details.console"), function (details) {
    var name = details.getAttribute("data-method");
    if (!model.methods[name]) {
      return;
    }
    var c = new Console(details);
    consoles[name] = c;
    if (details.open) {
      c.build();
    }
    details.addEventListener("toggle", function () {
      if (details.open) {
        c.build();
      }
    });
  });

  // A link to #method-NAME opens that method's console form.
  function openFromHash() {
    var match = /^#method-(.+)$/.exec(window.location.hash);
    var c = match && consoles[decodeURIComponent(match[1])];
    if (c) {
      c.details.open = true;
    }
  }
  window.addEventListener("hashchange", openFromHash);
  openFromHash();
  page.setAttribute("data-console", "ready");
}());
