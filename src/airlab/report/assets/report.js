/* airlab report: node details on click, and live refresh in the viewer. No dependencies. */
(function () {
  "use strict";
  var body = document.body;
  var api = body.getAttribute("data-api"); // set in the viewer only
  var cache = {};

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function fmt(v, digits) {
    if (v === null || v === undefined) return "–";
    if (typeof v !== "number") return String(v);
    return Number(v.toPrecision(digits || 5)).toString();
  }

  function loadNode(id) {
    if (cache[id]) return Promise.resolve(cache[id]);
    if (api) {
      return fetch(api + "/node/" + id).then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      }).then(function (d) { if (!body.hasAttribute("data-running") || body.getAttribute("data-running") === "0") cache[id] = d; return d; });
    }
    var blob = document.getElementById("node-" + id);
    if (!blob) return Promise.reject(new Error("no data for node " + id));
    cache[id] = JSON.parse(blob.textContent); // parsed lazily, on first click only
    return Promise.resolve(cache[id]);
  }

  function section(title, content, cls) {
    var s = el("section", "detail-section " + (cls || ""));
    s.appendChild(el("h3", null, title));
    s.appendChild(content);
    return s;
  }
  function pre(text, cls) {
    var p = el("pre", cls);
    p.textContent = text || "";
    return p;
  }
  function diffPre(text) {
    var p = el("pre", "diff");
    (text || "").split("\n").forEach(function (line) {
      var c = "ctx";
      if (line.indexOf("+++") === 0 || line.indexOf("---") === 0) c = "file";
      else if (line.charAt(0) === "+") c = "add";
      else if (line.charAt(0) === "-") c = "del";
      else if (line.indexOf("@@") === 0) c = "hunk";
      var s = el("span", c, line + "\n");
      p.appendChild(s);
    });
    return p;
  }
  function nodeLink(id) {
    var a = el("a", "node-link", id);
    a.href = "#";
    a.setAttribute("data-id", id);
    return a;
  }

  function render(d) {
    var panel = document.getElementById("detail");
    panel.innerHTML = "";
    panel.setAttribute("data-node", d.id);
    var h = el("h2", "detail-title");
    h.appendChild(el("span", null, "node " + d.id + " · " + d.operator + " · "));
    h.appendChild(el("span", "badge status-" + d.status, d.status));
    if (d.selected) h.appendChild(el("span", "badge selected", "selected"));
    if (d.oracle) h.appendChild(el("span", "badge oracle", "oracle best test"));
    panel.appendChild(h);

    var meta = el("p", "links");
    meta.appendChild(el("span", null, "parents: "));
    if (!d.parents.length) meta.appendChild(el("span", null, "none "));
    d.parents.forEach(function (p) { meta.appendChild(nodeLink(p)); meta.appendChild(el("span", null, " ")); });
    meta.appendChild(el("span", null, " children: "));
    if (!d.children.length) meta.appendChild(el("span", null, "none"));
    d.children.forEach(function (c) { meta.appendChild(nodeLink(c)); meta.appendChild(el("span", null, " ")); });
    if (d.family) meta.appendChild(el("span", null, " · family: " + d.family));
    panel.appendChild(meta);

    var t = el("table", "scores");
    var rows = [["search", fmt(d.search)]];
    if (d.fold_scores && d.fold_scores.length) rows.push(["search folds", d.fold_scores.map(function (v) { return fmt(v, 4); }).join(", ")]);
    if (d.hidden_revealed) {
      rows.push(["val", fmt(d.val)]);
      rows.push(["test", fmt(d.test)]);
    } else {
      rows.push(["val / test", "hidden until the run ends"]);
    }
    rows.push(["exit code", fmt(d.exit_code)]);
    rows.push(["seconds", fmt(d.exec_seconds, 3) + (d.time_limit ? " (limit " + fmt(d.time_limit, 3) + ")" : "")]);
    rows.push(["peak memory MB", fmt(d.peak_memory_mb, 4)]);
    rows.push(["limit hit", d.limit_hit || "none"]);
    rows.push(["tokens in / out", d.tokens_in + " / " + d.tokens_out]);
    rows.push(["cost", "$" + Number(d.cost_usd || 0).toFixed(4)]);
    rows.forEach(function (r) {
      var tr = el("tr");
      tr.appendChild(el("th", null, r[0]));
      var td = el("td", "v-" + r[0].replace(/[^a-z]+/g, "-"), r[1]);
      tr.appendChild(td);
      t.appendChild(tr);
    });
    panel.appendChild(section("Scores and limits", t, "scores-section"));
    if (d.error) panel.appendChild(section("Why it is not ok", pre(d.error, "error"), "error-section"));
    if (d.plan) panel.appendChild(section("Plan", pre(d.plan, "plan"), "plan-section"));
    if (d.diff_parent !== null && d.diff_parent !== undefined) {
      panel.appendChild(section("Diff against parent " + d.diff_parent, d.diff ? diffPre(d.diff) : pre("(identical code)"), "diff-section"));
    }
    panel.appendChild(section("Code", pre(d.code || "(no code)", "code"), "code-section"));
    panel.appendChild(section("Output tail", pre(d.output_tail || "(no output)", "output"), "output-section"));
  }

  function show(id) {
    document.querySelectorAll(".node.active").forEach(function (n) { n.classList.remove("active"); });
    var g = document.querySelector('.node[data-id="' + id + '"]');
    if (g) g.classList.add("active");
    loadNode(id).then(render).catch(function (e) {
      var panel = document.getElementById("detail");
      panel.innerHTML = "";
      panel.appendChild(el("p", "error", "Cannot load node " + id + ": " + e.message));
    });
  }

  document.addEventListener("click", function (ev) {
    var t = ev.target;
    var target = t && t.closest ? t.closest(".node, .node-link") : null;
    if (!target) return;
    ev.preventDefault();
    show(target.getAttribute("data-id"));
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "Enter") return;
    var t = document.activeElement;
    if (t && t.classList && t.classList.contains("node")) show(t.getAttribute("data-id"));
  });

  // -- live refresh (viewer only): poll the events table, re-render when nodes land ------------
  if (api && body.getAttribute("data-page") === "run") {
    var since = parseInt(body.getAttribute("data-last-event") || "0", 10);
    var busy = false;
    var live = document.querySelector(".live");
    var tick = function () {
      if (busy) return;
      busy = true;
      fetch(api + "/events?since=" + since).then(function (r) { return r.json(); }).then(function (ev) {
        var running = ev.running ? "1" : "0";
        var changed = running !== body.getAttribute("data-running");
        if (live) live.hidden = running !== "1";
        body.setAttribute("data-running", running);
        if (!ev.events.length && !changed) return null;
        if (ev.events.length) since = ev.events[ev.events.length - 1].seq;
        return fetch(api + "/main").then(function (r) { return r.text(); }).then(function (html) {
          document.getElementById("main").innerHTML = html;
          body.setAttribute("data-last-event", String(since));
          cache = {};
          var current = document.getElementById("detail").getAttribute("data-node");
          if (current !== null) {
            var g = document.querySelector('.node[data-id="' + current + '"]');
            if (g) g.classList.add("active");
          }
        });
      }).catch(function () { /* the server may be restarting; try again on the next tick */ })
        .then(function () { busy = false; });
    };
    setInterval(tick, 1000);
  }
})();
