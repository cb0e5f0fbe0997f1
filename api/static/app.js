/* The comparison page: pick coalitions and a scenario, run POST /v1/compare as a job, poll it,
 * then draw the charts (plotly figure JSON from GET /ui/jobs/{id}/figures) and the table
 * (from GET /v1/jobs/{id}/result). Everything comes from this server: no network needed.
 * Text from the server is always inserted as text (never as HTML). */
(function () {
  "use strict";

  var KEY_STORAGE = "coalition.apiKey";
  var POLL_MS = 500;
  var FINAL = ["succeeded", "failed", "cancelled"];
  var FIELD_INPUTS = {
    "scenario.budget_usd": "budget",
    "scenario.start_year": "start-year",
    "scenario.end_year": "end-year",
    "scenario.dataset": "dataset",
    "scenario": "scenario",
    "coalitions": "coalitions-fieldset",
  };

  var state = { config: null, scenarios: [], coalitions: [], job: null, timer: null, started: 0 };

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") { node.textContent = attrs[name]; }
      else if (name === "className") { node.className = attrs[name]; }
      else { node.setAttribute(name, attrs[name]); }
    });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function setPageState(value) { document.body.setAttribute("data-state", value); }

  // --- the API ---------------------------------------------------------------------------

  function ApiProblem(status, error) {
    this.status = status;
    this.error = error || {};
    this.message = this.error.message || ("HTTP " + status);
  }

  function apiKey() {
    try { return window.sessionStorage.getItem(KEY_STORAGE) || ""; } catch (e) { return ""; }
  }

  function api(path, options) {
    options = options || {};
    var headers = { "Accept": "application/json" };
    var key = apiKey();
    if (key) { headers["X-API-Key"] = key; }
    var init = { method: options.method || "GET", headers: headers, cache: "no-store" };
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
    return fetch(path, init).then(
      function (response) {
        return response.text().then(function (text) {
          var body = null;
          try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
          if (!response.ok) {
            var error = body && body.error ? body.error
              : { code: "http_" + response.status, message: (text || response.statusText).slice(0, 500) };
            throw new ApiProblem(response.status, error);
          }
          return body;
        });
      },
      function (err) {
        throw new ApiProblem(0, { code: "unreachable", message: "The server cannot be reached (" + err.message + ")." });
      }
    );
  }

  // --- messages --------------------------------------------------------------------------

  function clearErrors() {
    var box = $("errors");
    box.hidden = true;
    box.textContent = "";
    document.querySelectorAll("[aria-invalid=true]").forEach(function (node) {
      node.removeAttribute("aria-invalid");
    });
  }

  function inputFor(field) {
    if (!field) { return null; }
    if (FIELD_INPUTS[field]) { return $(FIELD_INPUTS[field]); }
    var match = /^coalitions\.(\d+)/.exec(field);
    if (match) { return $("coalitions-fieldset"); }
    var parent = field.split(".").slice(0, 2).join(".");
    return FIELD_INPUTS[parent] ? $(FIELD_INPUTS[parent]) : null;
  }

  function showError(problem, context) {
    var box = $("errors");
    var error = problem.error || {};
    box.textContent = "";
    var heading = context || "The request failed";
    if (problem.status) { heading += " (HTTP " + problem.status + (error.code ? ", " + error.code : "") + ")"; }
    box.appendChild(el("h2", { text: heading }));
    box.appendChild(el("p", { className: "error-message", text: error.message || problem.message || String(problem) }));
    var fields = error.fields || (error.field ? [{ field: error.field, message: error.message }] : []);
    if (fields.length) {
      var list = el("ul", { className: "error-fields" });
      fields.forEach(function (item) {
        list.appendChild(el("li", {}, [el("code", { text: item.field }), ": " + item.message]));
        var input = inputFor(item.field);
        if (input) { input.setAttribute("aria-invalid", "true"); }
      });
      box.appendChild(list);
    }
    if (error.job_error) {
      box.appendChild(el("p", { text: "Job error: " + (error.job_error.message || JSON.stringify(error.job_error)) }));
    }
    if (problem.status === 401 || problem.status === 403) {
      box.appendChild(el("p", { text: "Enter an API key with the read and submit scopes above." }));
      $("key-panel").open = true;
      $("api-key").focus();
    }
    if (error.request_id) {
      box.appendChild(el("p", { className: "muted", text: "Request id: " + error.request_id }));
    }
    box.hidden = false;
  }

  // --- formatting ------------------------------------------------------------------------

  function isNum(value) { return typeof value === "number" && isFinite(value); }
  function fixed(value, digits) { return isNum(value) ? value.toFixed(digits) : "–"; }
  function percent(value) { return isNum(value) ? (value * 100).toFixed(1) + " %" : "–"; }
  function usdBn(value) { return isNum(value) ? (value / 1e9).toFixed(2) : "–"; }
  function tonnes(value) {
    return isNum(value) ? Math.round(value).toLocaleString("en-US") : "–";
  }

  function csvValue(value) {
    if (value === null || value === undefined) { return ""; }
    var text = Array.isArray(value) ? value.join(" ") : String(value);
    return /[",\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  function download(filename, text) {
    var blob = new Blob([text], { type: "text/csv;charset=utf-8" });
    var url = URL.createObjectURL(blob);
    var link = el("a", { href: url, download: filename });
    document.body.appendChild(link);
    link.click();
    link.remove();
    window.setTimeout(function () { URL.revokeObjectURL(url); }, 5000);
  }

  // --- the form --------------------------------------------------------------------------

  function fillDatasets(names) {
    var select = $("dataset");
    select.textContent = "";
    names.forEach(function (name) { select.appendChild(el("option", { value: name, text: name })); });
  }

  function loadDataset() {
    var dataset = $("dataset").value;
    $("coalitions").textContent = "Loading coalitions…";
    return Promise.all([
      api("/v1/coalitions?dataset=" + encodeURIComponent(dataset)),
      api("/ui/scenarios?dataset=" + encodeURIComponent(dataset)),
    ]).then(function (answers) {
      state.coalitions = answers[0];
      state.scenarios = answers[1];
      renderCoalitions();
      renderScenarios();
    });
  }

  function renderCoalitions() {
    var box = $("coalitions");
    box.textContent = "";
    state.coalitions.forEach(function (preset, i) {
      var id = "coalition-" + preset.name;
      var input = el("input", { type: "checkbox", id: id, name: "coalition", value: preset.name });
      if (i < 2) { input.checked = true; }
      var label = el("label", { for: id, title: preset.description || "" }, [
        el("span", { className: "choice-name", text: preset.name }),
        el("span", { className: "muted", text: " " + preset.members.join(", ") }),
      ]);
      box.appendChild(el("div", { className: "choice" }, [input, label]));
    });
  }

  function renderScenarios() {
    var select = $("scenario");
    select.textContent = "";
    state.scenarios.forEach(function (s) { select.appendChild(el("option", { value: s.name, text: s.name })); });
    applyScenario();
  }

  function chosenScenario() {
    var name = $("scenario").value;
    return state.scenarios.filter(function (s) { return s.name === name; })[0] || null;
  }

  function applyScenario() {
    var chosen = chosenScenario();
    if (!chosen) { return; }
    var s = chosen.scenario;
    $("scenario-description").textContent = chosen.description || "";
    $("budget").value = isNum(s.budget_usd) ? String(+(s.budget_usd / 1e9).toFixed(3)) : "";
    $("start-year").value = s.start_year;
    $("end-year").value = s.end_year;
  }

  function readNumber(id, label, problems) {
    var input = $(id);
    var raw = input.value.trim();
    if (raw === "") { return null; }
    var value = Number(raw);
    if (!isFinite(value) || input.validity.badInput) {
      problems.push({ field: id, message: label + " must be a number" });
      return undefined;
    }
    return value;
  }

  function buildRequest() {
    var problems = [];
    var coalitions = Array.prototype.map.call(
      document.querySelectorAll("#coalitions input[name=coalition]:checked"), function (n) { return n.value; });
    if (coalitions.length < 1) {
      problems.push({ field: "coalitions", message: "pick at least one coalition (two or more to compare)" });
    }
    var chosen = chosenScenario();
    if (!chosen) { problems.push({ field: "scenario", message: "pick a scenario" }); }
    var budget = readNumber("budget", "The budget", problems);
    var start = readNumber("start-year", "The first year", problems);
    var end = readNumber("end-year", "The last year", problems);
    if (problems.length) {
      throw new ApiProblem(0, { code: "invalid_form", message: "Please correct the form.", fields: problems });
    }
    var scenario = JSON.parse(JSON.stringify(chosen.scenario));
    scenario.budget_usd = budget === null ? null : budget * 1e9;
    if (start !== null) { scenario.start_year = start; }
    if (end !== null) { scenario.end_year = end; }
    return { coalitions: coalitions, scenario: scenario };
  }

  // --- the job ---------------------------------------------------------------------------

  function setRunning(running) {
    $("run").disabled = running;
    $("cancel").hidden = !running;
  }

  function showProgress(job) {
    var bar = $("progress");
    var text = $("progress-text");
    $("status").hidden = false;
    var done = job.progress ? job.progress.done : 0;
    var total = job.progress ? job.progress.total : 0;
    if (total > 0) {
      bar.max = total;
      bar.value = done;
    } else if (job.state === "succeeded") {
      bar.max = 1;
      bar.value = 1;
    } else {
      bar.removeAttribute("value");  // indeterminate until the sweep knows its size
    }
    // finished: the server's own timestamps; running: since we submitted it (or since it was created)
    var created = Date.parse(job.created_at);
    var finished = job.finished_at ? Date.parse(job.finished_at) : NaN;
    var since = isFinite(finished) ? finished - created : Date.now() - (state.started || created);
    var seconds = isFinite(since) ? Math.max(0, since / 1000).toFixed(0) : "";
    var words = {
      queued: "Queued, waiting for a worker",
      running: "Solving",
      succeeded: "Finished",
      failed: "Failed",
      cancelled: "Cancelled",
    }[job.state] || job.state;
    var summary = words + (total > 0 ? ": " + done + " of " + total + " solves done" : "");
    text.textContent = summary + (seconds !== "" ? " (" + seconds + " s)" : "") + ".";
    var live = $("progress-live");  // announced on change only, not every poll
    if (live.textContent !== summary + ".") { live.textContent = summary + "."; }
    text.setAttribute("data-job-state", job.state);
    text.setAttribute("data-done", String(done));
    text.setAttribute("data-total", String(total));
  }

  function poll() {
    var job = state.job;
    api("/v1/jobs/" + encodeURIComponent(job.id)).then(function (current) {
      if (!state.job || state.job.id !== current.id) { return; }
      state.job = current;
      showProgress(current);
      if (FINAL.indexOf(current.state) < 0) {
        state.timer = window.setTimeout(poll, POLL_MS);
        return;
      }
      setRunning(false);
      if (current.state === "succeeded") {
        loadResults(current.id);
      } else if (current.state === "failed") {
        var err = current.error || {};
        showError(new ApiProblem(0, { code: err.code, message: err.message || "the job failed" }),
          "The comparison failed" + (err.code ? " (" + err.code + ")" : ""));
        setPageState("error");
      } else {
        setPageState("cancelled");  // the progress line says so; nothing went wrong
      }
    }, function (problem) {
      setRunning(false);
      showError(problem, "Could not follow the job");
      setPageState("error");
    });
  }

  function follow(job) {
    state.job = job;
    setRunning(true);
    setPageState("running");
    showProgress(job);
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", "#job=" + encodeURIComponent(job.id));
    }
    window.clearTimeout(state.timer);
    state.timer = window.setTimeout(poll, FINAL.indexOf(job.state) < 0 ? POLL_MS : 0);
  }

  function run(event) {
    event.preventDefault();
    clearErrors();
    var request;
    try {
      request = buildRequest();
    } catch (problem) {
      showError(problem, "The form is incomplete");
      return;
    }
    $("results").hidden = true;
    setRunning(true);
    setPageState("submitting");
    state.started = Date.now();
    api("/v1/compare", { method: "POST", body: request }).then(follow, function (problem) {
      setRunning(false);
      setPageState("error");
      showError(problem, "The server refused the comparison");
    });
  }

  function cancel() {
    if (!state.job) { return; }
    api("/v1/jobs/" + encodeURIComponent(state.job.id) + "/cancel", { method: "POST" }).catch(function (problem) {
      showError(problem, "Could not cancel");
    });
  }

  // --- results ---------------------------------------------------------------------------

  var COLUMNS = [
    { key: "rank", label: "Rank", title: "1 = least exposed within its scenario", format: function (v) { return isNum(v) ? String(v) : "–"; } },
    { key: "coalition", label: "Coalition (members)" },
    { key: "scenario", label: "Scenario" },
    { key: "status", label: "Status" },
    { key: "exposure_share_years", label: "Exposure (share-years)", numeric: true, format: function (v) { return fixed(v, 3); },
      title: "Exposed share of demand summed over years and materials (unmet demand counts at its penalty); lower is better" },
    { key: "mean_exposed_share", label: "Mean exposed share (%)", numeric: true, format: percent,
      title: "Exposed share of demand, averaged over years and materials" },
    { key: "final_exposed_share", label: "Last-year exposed share (%)", numeric: true, format: percent },
    { key: "exposed_t", label: "Exposed (t)", numeric: true, format: tonnes,
      title: "Tonnes of demand over the horizon that are adversary-made or carry adversary input" },
    { key: "unmet_t", label: "Unmet (t)", numeric: true, format: tonnes, title: "Tonnes of demand over the horizon nobody supplies" },
    { key: "cost_usd", label: "Total cost (USD bn)", numeric: true, format: usdBn },
    { key: "capex_usd", label: "Capital spent (USD bn)", numeric: true, format: usdBn, title: "Capital spent on new capacity" },
    { key: "message", label: "Note" },
  ];
  var CSV_COLUMNS = ["rank", "coalition", "members", "scenario", "status", "exposure_share_years", "mean_exposed_share",
    "final_exposed_share", "exposed_t", "unmet_t", "cost_usd", "capex_usd", "message"];

  function orderedCells(result) {
    var scenarios = result.scenarios || [];
    return (result.cells || []).slice().sort(function (a, b) {
      var s = scenarios.indexOf(a.scenario) - scenarios.indexOf(b.scenario);
      if (s) { return s; }
      var ra = isNum(a.rank) ? a.rank : 1e9;
      var rb = isNum(b.rank) ? b.rank : 1e9;
      return ra - rb;
    });
  }

  function renderTable(result) {
    var table = $("compare-table");
    var head = table.tHead;
    var body = table.tBodies[0];
    head.textContent = "";
    body.textContent = "";
    var row = el("tr");
    var notes = (result.cells || []).some(function (cell) { return !!cell.message; });
    var columns = COLUMNS.filter(function (c) { return c.key !== "message" || notes; });
    columns.forEach(function (c) {
      var th = el("th", { scope: "col", "data-key": c.key, text: c.label });
      if (c.title) { th.setAttribute("title", c.title); }
      if (c.numeric) { th.className = "num"; }
      row.appendChild(th);
    });
    head.appendChild(row);
    orderedCells(result).forEach(function (cell) {
      var tr = el("tr", { "data-coalition": cell.coalition, "data-scenario": cell.scenario, "data-status": cell.status });
      columns.forEach(function (c) {
        var value = cell[c.key];
        var text = c.format ? c.format(value) : (value === null || value === undefined ? "" : String(value));
        var td;
        if (c.key === "coalition") {
          td = el("th", { scope: "row", "data-key": c.key }, [
            el("span", { className: "name", text: text }),
            el("span", { className: "members muted", text: (cell.members || []).join(", ") }),
          ]);
        } else {
          td = el("td", { "data-key": c.key, text: text });
        }
        if (c.numeric) {
          td.className = "num";
          if (isNum(value)) { td.setAttribute("data-value", String(value)); }
        }
        if (c.key === "status" && value !== "ok") { td.className = "status-bad"; }
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    $("table-csv").onclick = function () {
      var lines = [CSV_COLUMNS.join(",")];
      orderedCells(result).forEach(function (cell) {
        lines.push(CSV_COLUMNS.map(function (key) { return csvValue(cell[key]); }).join(","));
      });
      download("comparison.csv", lines.join("\n") + "\n");
    };
  }

  function renderRanking(result) {
    var box = $("ranking");
    box.textContent = "";
    var several = (result.scenarios || []).length > 1;
    (result.scenarios || []).forEach(function (scenario) {
      if (several) { box.appendChild(el("h3", { text: "Scenario " + scenario })); }
      var list = el("ol", { className: "ranking", "data-scenario": scenario });
      (result.ranking[scenario] || []).forEach(function (name) {
        var cell = (result.cells || []).filter(function (c) { return c.coalition === name && c.scenario === scenario; })[0];
        var detail = cell && isNum(cell.exposure_share_years)
          ? " — exposure " + fixed(cell.exposure_share_years, 3) + " share-years, total cost USD " + usdBn(cell.cost_usd) + " bn"
          : (cell ? " — " + cell.status + (cell.message ? ": " + cell.message : "") : "");
        list.appendChild(el("li", {}, [el("strong", { text: name }), detail]));
      });
      box.appendChild(list);
    });
  }

  function renderIssues(result) {
    var box = $("issues");
    box.textContent = "";
    var bad = (result.cells || []).filter(function (c) { return c.status !== "ok"; });
    if (!bad.length) { box.hidden = true; return; }
    box.appendChild(el("h3", { text: bad.length === 1 ? "One item has no optimal plan" : bad.length + " items have no optimal plan" }));
    var list = el("ul");
    bad.forEach(function (c) {
      list.appendChild(el("li", { "data-coalition": c.coalition, "data-status": c.status }, [
        el("strong", { text: c.coalition }), " on " + c.scenario + ": ",
        el("em", { text: c.status }), c.message ? " — " + c.message : "",
      ]));
    });
    box.appendChild(list);
    box.hidden = false;
  }

  function renderCharts(payload) {
    var box = $("charts");
    box.textContent = "";
    payload.charts.forEach(function (chart) {
      var id = "chart-" + chart.key;
      var div = el("div", { id: id, className: "chart", role: "img", "aria-label": chart.title + ". " + chart.caption });
      var button = el("button", { type: "button", className: "secondary", "data-csv": chart.key,
        text: "Download the chart's data (CSV, " + chart.rows + " rows)" });
      button.addEventListener("click", function () { download(chart.filename, chart.csv); });
      box.appendChild(el("figure", { className: "chart-figure", "data-key": chart.key }, [
        div,
        el("figcaption", {}, [el("strong", { text: chart.title + ". " }), chart.caption]),
        el("p", {}, [button]),
      ]));
      if (window.Plotly) {
        window.Plotly.newPlot(div, chart.figure.data, chart.figure.layout, payload.config);
      } else {
        div.textContent = "plotly.js did not load: the chart cannot be drawn (its data can still be downloaded).";
      }
    });
  }

  // After a reload (#job=...), show in the form what the comparison was run with.
  function reflectInput(input) {
    var scenario = (input && input.scenario) || {};
    var names = (input && input.coalitions) || [];
    document.querySelectorAll("#coalitions input[name=coalition]").forEach(function (box) {
      box.checked = names.indexOf(box.value) >= 0;
    });
    if (state.scenarios.some(function (s) { return s.name === scenario.name; })) {
      $("scenario").value = scenario.name;
      $("scenario-description").textContent = chosenScenario().description || "";
    }
    $("budget").value = isNum(scenario.budget_usd) ? String(+(scenario.budget_usd / 1e9).toFixed(3)) : "";
    if (isNum(scenario.start_year)) { $("start-year").value = scenario.start_year; }
    if (isNum(scenario.end_year)) { $("end-year").value = scenario.end_year; }
  }

  function loadResults(jobId) {
    setPageState("loading-results");
    Promise.all([
      api("/v1/jobs/" + encodeURIComponent(jobId) + "/result"),
      api("/ui/jobs/" + encodeURIComponent(jobId) + "/figures"),
    ]).then(function (answers) {
      var envelope = answers[0];
      var result = envelope.result;
      reflectInput(envelope.input);
      $("results").hidden = false;
      renderRanking(result);
      renderIssues(result);
      renderTable(result);
      renderCharts(answers[1]);
      var meta = result.meta || {};
      $("provenance").textContent = "Job " + jobId + ": " + (meta.solves || 0) + " solves, " + (meta.failed || 0) +
        " failed, " + fixed(meta.seconds, 1) + " s of solving; " + envelope.solver_name + " " +
        envelope.solver_version + ", model " + envelope.model_version + ".";
      $("results").setAttribute("data-job-id", jobId);
      setPageState("done");
    }, function (problem) {
      showError(problem, "Could not load the results");
      setPageState("error");
    });
  }

  // --- the key ---------------------------------------------------------------------------

  function showKeyState() {
    var has = !!apiKey();
    var required = state.config && state.config.api_key_required;
    $("key-state").textContent = has ? "(set for this tab)" : (required ? "(required: none set)" : "(not needed here)");
  }

  function saveKey(event) {
    event.preventDefault();
    var value = $("api-key").value.trim();
    try {
      if (value) { window.sessionStorage.setItem(KEY_STORAGE, value); }
    } catch (e) { /* storage refused: the key is not kept */ }
    $("api-key").value = "";
    showKeyState();
    clearErrors();
    start();
  }

  function forgetKey() {
    try { window.sessionStorage.removeItem(KEY_STORAGE); } catch (e) { /* nothing kept */ }
    showKeyState();
  }

  // --- start -----------------------------------------------------------------------------

  function start() {
    setPageState("loading");
    return api("/v1/datasets").then(function (datasets) {
      var names = datasets.map(function (d) { return d.name; });
      var current = $("dataset").value;
      fillDatasets(names);
      if (current && names.indexOf(current) >= 0) { $("dataset").value = current; }
      else if (names.indexOf("rare_earths") >= 0) { $("dataset").value = "rare_earths"; }
      return loadDataset();
    }).then(function () {
      setPageState("ready");
      var match = /job=([0-9a-fA-F-]{8,64})/.exec(window.location.hash);
      if (match && !state.job) {
        api("/v1/jobs/" + match[1]).then(function (job) {
          if (job.kind === "compare") { follow(job); }
        }, function () { /* an old link: ignore */ });
      }
    }, function (problem) {
      setPageState(problem.status === 401 || problem.status === 403 ? "needs-key" : "error");
      showError(problem, "Could not load the datasets");
    });
  }

  function init() {
    $("key-form").addEventListener("submit", saveKey);
    $("key-forget").addEventListener("click", forgetKey);
    $("compare-form").addEventListener("submit", run);
    $("cancel").addEventListener("click", cancel);
    $("scenario").addEventListener("change", applyScenario);
    $("dataset").addEventListener("change", function () {
      clearErrors();
      loadDataset().catch(function (problem) { showError(problem, "Could not load the dataset"); });
    });
    api("/ui/config").then(function (config) {
      state.config = config;
      showKeyState();
      if (config.api_key_required) {
        document.querySelectorAll("a[href='/docs']").forEach(function (a) { a.hidden = true; });
        if (!apiKey()) {
          $("key-panel").open = true;
          setPageState("needs-key");
          $("api-key").focus();
          return null;
        }
      }
      return start();
    }, function (problem) {
      showError(problem, "The server did not answer");
      setPageState("error");
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
