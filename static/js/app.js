// adminui: htmx configuration hooks and small keyboard helpers only. No inline scripts anywhere (CSP).
(function () {
  "use strict";
  // "/" focuses the search box (or opens the search page where there is none), unless the operator is typing
  // somewhere. The box is autofocused, so "/" pressed in it while it is still empty is the shortcut, not a query.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    var box = document.querySelector("[data-search-box]");
    if (box && target === box) {
      if (!box.value) event.preventDefault();
      return;
    }
    var tag = (target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable) return;
    event.preventDefault();
    if (box) { box.focus(); box.select(); } else { window.location.assign("/"); }
  });
  // Back/forward: htmx restores a snapshot taken when the *next* URL was pushed, so a search-as-you-type box
  // would show the newer query above the older results. Forms that push their state to the URL (hx-push-url)
  // take their visible fields back from the URL instead.
  document.addEventListener("htmx:historyRestore", function () {
    var params = new URLSearchParams(window.location.search);
    document.querySelectorAll("form[hx-push-url] [name]").forEach(function (el) {
      var type = (el.type || "").toLowerCase();
      if (type === "hidden" || type === "submit" || type === "button" || type === "file" || type === "password") return;
      if (type === "checkbox" || type === "radio") { el.checked = params.getAll(el.name).indexOf(el.value) !== -1; return; }
      var value = params.get(el.name) || "";
      if (el.tagName === "SELECT" && !Array.prototype.some.call(el.options, function (o) { return o.value === value; })) return;
      el.value = value;
    });
  });
  // Requests in flight: the top bar's indicator shows while any request the operator started is running
  // (not the background polling of progress panels), and a mutation's submit buttons are disabled until it
  // answers when the element did not say what to disable itself (hx-disabled-elt).
  var inFlight = 0;
  function globalIndicator(on) {
    var el = document.getElementById("global-indicator");
    if (el) el.classList.toggle("htmx-request", on);
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt, xhr = event.detail.xhr;
    if (!elt || !xhr) return;
    var polling = /\bevery\b/.test(elt.getAttribute("hx-trigger") || "");
    var verb = ((event.detail.requestConfig && event.detail.requestConfig.verb) || "get").toLowerCase();
    var busy = [];
    if (verb !== "get" && !elt.closest("[hx-disabled-elt]")) {
      var candidates = elt.tagName === "FORM"
        ? elt.querySelectorAll("button:not([type=button]), input[type=submit]")
        : (elt.matches("button, input[type=submit]") ? [elt] : []);
      Array.prototype.forEach.call(candidates, function (b) {
        if (!b.disabled) { b.disabled = true; busy.push(b); }
      });
    }
    if (!polling) { inFlight += 1; globalIndicator(true); }
    xhr.addEventListener("loadend", function () {
      busy.forEach(function (b) { b.disabled = false; });
      if (!polling) { inFlight = Math.max(0, inFlight - 1); if (!inFlight) globalIndicator(false); }
    });
  });
  // Announce swaps that carry a status message to screen readers.
  document.addEventListener("htmx:afterSwap", function (event) {
    var status = event.detail.target && event.detail.target.querySelector("[data-status-message]");
    var live = document.getElementById("status");
    if (status && live) live.textContent = status.getAttribute("data-status-message");
  });
  // Network failures (server down, connection dropped) become a visible alert instead of silence.
  function networkAlert(text) {
    var alerts = document.getElementById("alerts");
    if (!alerts) return;
    var div = document.createElement("div");
    div.className = "alert alert-error";
    div.setAttribute("role", "alert");
    div.textContent = text;
    alerts.prepend(div);
  }
  document.addEventListener("htmx:sendError", function () { networkAlert("The console could not be reached. Check your network and try again."); });
  document.addEventListener("htmx:timeout", function () { networkAlert("The console took too long to answer. Try again."); });
  // <select data-autosubmit>: picking an option submits its form (the form keeps a real submit button).
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("select[data-autosubmit]") && el.form) el.form.requestSubmit();
  });
  // hx-confirm="… from admin to {role}?": the question names what the form will send — "{name}" becomes the
  // chosen option's label (or the value) of the form's field of that name.
  document.addEventListener("htmx:confirm", function (event) {
    var question = event.detail.question, elt = event.detail.elt;
    if (!question || !/\{\w+\}/.test(question) || !elt) return;
    var form = elt.tagName === "FORM" ? elt : (elt.form || elt.closest("form"));
    event.preventDefault();
    var text = question.replace(/\{(\w+)\}/g, function (_, name) {
      var field = form && form.elements[name];
      if (!field) return "";
      if (field.tagName === "SELECT") {
        var option = field.options[field.selectedIndex];
        return option ? option.text : field.value;
      }
      return field.value;
    });
    if (window.confirm(text)) event.detail.issueRequest(true);
  });
  // Dismiss alerts on click.
  document.addEventListener("click", function (event) {
    var alert = event.target.closest && event.target.closest(".alert[role=alert]");
    if (alert && event.target.matches("[data-dismiss]")) alert.remove();
  });
})();
