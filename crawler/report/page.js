(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("crawler-data").textContent);
  var rows = data.rows;
  var table = document.getElementById("papers");
  var tbody = table.tBodies[0];
  var box = document.getElementById("q");
  var pick = document.getElementById("status");
  var count = document.getElementById("count");
  var sortKey = "line", sortDir = 1;

  function node(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function anchor(href, text) {
    // Only http(s): the server already dropped anything else, and this checks again.
    if (typeof href !== "string" || !/^https?:\/\//i.test(href)) return node("span", null, text);
    var a = node("a", null, text);
    a.href = href;
    a.rel = "noopener noreferrer nofollow";
    return a;
  }
  function badge(status) {
    return node("span", "st st-" + status.replace(/[^a-z_]/g, ""), data.labels[status] || status);
  }
  function linksCell(r) {
    var ul = node("ul", "links");
    r.links.forEach(function (l) {
      var li = node("li");
      li.appendChild(l.url ? anchor(l.href, l.label || l.url) : node("span", null, l.label));
      li.appendChild(badge(l.status));
      if (l.filled && l.status !== "filled") li.appendChild(badge("filled"));
      if (l.dead) li.appendChild(badge("dead")); else if (l.new) li.appendChild(badge("new"));
      var why = [];  // what went wrong; a working link needs no explanation
      if (["ok", "redirected", "filled"].indexOf(l.status) < 0) {
        if (l.http) why.push("HTTP " + l.http);
        if (l.error) why.push(l.error);
      }
      if (why.length) li.appendChild(node("span", "why", why.join(": ")));
      if (l.suggestion) {
        var s = node("span", "why", "suggested: ");
        s.appendChild(anchor(l.suggestion_href, l.suggestion));
        li.appendChild(s);
      }
      li.title = l.url;
      ul.appendChild(li);
    });
    return ul;
  }
  function build(r) {
    var tr = node("tr");
    tr.setAttribute("data-line", r.line);
    tr.appendChild(node("td", "num", r.where));
    tr.appendChild(node("td", "section", r.section));
    var t = node("td", "title", r.title);
    if (r.authors.length) {
      var names = r.authors.length > 8 ? r.authors.slice(0, 8).join(", ") + ", et al." : r.authors.join(", ");
      t.appendChild(node("span", "authors", names));
    }
    tr.appendChild(t);
    tr.appendChild(node("td", "venue", r.venue));
    tr.appendChild(node("td", "num", r.year === null ? "" : r.year));
    var lc = node("td", "links");
    lc.appendChild(linksCell(r));
    tr.appendChild(lc);
    var ac = node("td", "abstract");
    if (r.abstract) {
      var d = node("details");
      d.appendChild(node("summary", null, "Abstract" + (r.abstract_source ? " (" + r.abstract_source + ")" : "")));
      d.appendChild(node("p", null, r.abstract));
      ac.appendChild(d);
    } else {
      ac.appendChild(node("span", "muted", "none"));
    }
    tr.appendChild(ac);
    return tr;
  }
  rows.forEach(function (r) {
    r.tr = build(r);
    r.hay = [r.title, r.section, r.venue, r.year, r.authors.join(" "), r.arxiv_id || "", r.abstract,
             r.links.map(function (l) { return l.label + " " + l.url + " " + l.status; }).join(" ")]
            .join(" ").toLowerCase();
  });

  var keys = {
    line: function (r) { return r.order; }, section: function (r) { return r.section.toLowerCase(); },
    title: function (r) { return r.title.toLowerCase(); }, venue: function (r) { return r.venue.toLowerCase(); },
    year: function (r) { return r.year === null ? -1 : r.year; }, links: function (r) { return r.rank; },
    abstract: function (r) { return r.abstract ? 0 : 1; }
  };
  function compare(a, b) {
    var ka = keys[sortKey](a), kb = keys[sortKey](b);
    if (ka < kb) return -sortDir;
    if (ka > kb) return sortDir;
    return a.order - b.order;
  }
  function render() {
    var terms = box.value.toLowerCase().split(/\s+/).filter(Boolean);
    var tag = pick.value, shown = 0;
    rows.slice().sort(compare).forEach(function (r) {
      var ok = (!tag || r.tags.indexOf(tag) >= 0) &&
               terms.every(function (w) { return r.hay.indexOf(w) >= 0; });
      r.tr.hidden = !ok;
      if (ok) shown++;
      tbody.appendChild(r.tr);
    });
    count.textContent = shown + " of " + rows.length + " entries";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.setAttribute("aria-sort", th.getAttribute("data-key") === sortKey ?
        (sortDir > 0 ? "ascending" : "descending") : "none");
    });
  }
  function writeHash() {
    var p = new URLSearchParams();
    if (box.value) p.set("q", box.value);
    if (pick.value) p.set("status", pick.value);
    if (sortKey !== "line" || sortDir !== 1) p.set("sort", (sortDir < 0 ? "-" : "") + sortKey);
    var h = p.toString();
    try { history.replaceState(null, "", h ? "#" + h : location.pathname + location.search); } catch (e) { /* file: */ }
  }
  function readHash() {
    var p = new URLSearchParams(location.hash.replace(/^#/, ""));
    box.value = p.get("q") || "";
    var st = p.get("status") || "";
    pick.value = Array.prototype.some.call(pick.options, function (o) { return o.value === st; }) ? st : "";
    var s = p.get("sort") || "line";
    sortDir = s.charAt(0) === "-" ? -1 : 1;
    sortKey = keys[s.replace(/^-/, "")] ? s.replace(/^-/, "") : "line";
    render();
  }
  box.addEventListener("input", function () { render(); writeHash(); });
  pick.addEventListener("change", function () { render(); writeHash(); });
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
    var b = th.querySelector("button");
    if (!b) return;
    b.addEventListener("click", function () {
      var k = th.getAttribute("data-key");
      sortDir = k === sortKey ? -sortDir : 1;
      sortKey = k;
      render();
      writeHash();
    });
  });
  window.addEventListener("hashchange", readHash);
  if (!rows.length) {
    var tr = node("tr", "empty-note"), td = node("td", null, data.empty_note);
    td.colSpan = 7;
    tr.appendChild(td);
    tbody.appendChild(tr);
  }
  readHash();
  document.documentElement.setAttribute("data-ready", "1");
})();
