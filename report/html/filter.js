// Filters the conversations by verdict, suite and tag. Without this script
// the filter bar stays hidden and every conversation is shown. The state
// lives in the address after #filter? so a filtered view can be shared.
(function () {
  "use strict";
  var root = document.documentElement;
  try {
    var form = document.getElementById("filters");
    if (!form) {
      root.setAttribute("data-filters", "none");
      return;
    }
    var convs = Array.prototype.slice.call(document.querySelectorAll("article.conv"));
    var boxes = Array.prototype.slice.call(form.querySelectorAll("input[name=verdict]"));
    var suite = form.querySelector("select[name=suite]");
    var tag = form.querySelector("select[name=tag]");
    var count = document.getElementById("filter-count");
    var problems = { failed: 1, errored: 1, flaky: 1, unfinished: 1 };

    var apply = function (remember) {
      var want = {};
      boxes.forEach(function (b) { if (b.checked) { want[b.value] = true; } });
      var s = suite ? suite.value : "";
      var t = tag ? tag.value : "";
      var shown = 0;
      convs.forEach(function (c) {
        var tags = (c.getAttribute("data-tags") || "").split(" ");
        var ok = want[c.getAttribute("data-verdict")] === true &&
          (s === "" || c.getAttribute("data-suite") === s) &&
          (t === "" || tags.indexOf(t) !== -1);
        c.hidden = !ok;
        if (ok) { shown++; }
      });
      count.textContent = "showing " + shown + " of " + convs.length;
      root.setAttribute("data-shown", String(shown));
      if (remember && window.history && history.replaceState) {
        var q = new URLSearchParams();
        var off = boxes.filter(function (b) { return !b.checked; });
        if (off.length) {
          q.set("verdict", boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; }).join(","));
        }
        if (s) { q.set("suite", s); }
        if (t) { q.set("tag", t); }
        var h = q.toString();
        try { history.replaceState(null, "", h ? "#filter?" + h : location.pathname + location.search); } catch (e) { /* file: URLs may refuse */ }
      }
    };

    var restore = function () {
      if (location.hash.indexOf("#filter?") !== 0) { return; }
      var q = new URLSearchParams(location.hash.slice("#filter?".length));
      if (q.has("verdict")) {
        var v = q.get("verdict").split(",");
        boxes.forEach(function (b) { b.checked = v.indexOf(b.value) !== -1; });
      }
      if (suite && q.has("suite")) { suite.value = q.get("suite"); }
      if (tag && q.has("tag")) { tag.value = q.get("tag"); }
    };

    // Following a link to a conversation (from the comparison, say) shows
    // and opens it, even when the filters hide it.
    var reveal = function () {
      var id = location.hash.slice(1);
      if (!id || id.indexOf("filter?") === 0) { return; }
      var el = document.getElementById(id);
      var art = el && el.closest ? el.closest("article.conv") : null;
      if (!art) { return; }
      art.hidden = false;
      var d = art.querySelector("details");
      if (d) { d.open = true; }
      el.scrollIntoView();
    };

    form.addEventListener("change", function () { apply(true); });
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    form.addEventListener("click", function (e) {
      var action = e.target.getAttribute && e.target.getAttribute("data-action");
      if (!action) { return; }
      if (action === "problems" || action === "all") {
        boxes.forEach(function (b) { b.checked = action === "all" || problems[b.value] === 1; });
        if (suite) { suite.value = ""; }
        if (tag) { tag.value = ""; }
        apply(true);
      } else {
        convs.forEach(function (c) {
          var d = c.querySelector("details");
          if (d) { d.open = action === "expand"; }
        });
      }
    });
    window.addEventListener("hashchange", function () {
      if (location.hash.indexOf("#filter?") === 0) {
        restore();
        apply(false);
      } else {
        reveal();
      }
    });

    restore();
    apply(false);
    reveal();
    form.hidden = false;
    root.setAttribute("data-filters", "ready");
  } catch (e) {
    root.setAttribute("data-filters", "error");
    root.setAttribute("data-script-error", String(e && e.message || e));
  }
}());
