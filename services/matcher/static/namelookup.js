// regwatch portal, watchlist page (namelookup.js): while a name is typed, what the directory knows of it
// (a GET of /portal/watches/lookup with the session cookie). Without this script the add
// form's answer says the same.
document.addEventListener("DOMContentLoaded", function () {
  var input = document.getElementById("watch-name");
  var out = document.getElementById("lookup");
  if (!input || !out || !window.fetch) return;
  var form = input.form;
  var timer = null;
  var asked = 0;

  function kind() {
    var checked = form.querySelector("input[name=kind]:checked");
    return checked ? checked.value : "";
  }

  function show(answer) {
    out.textContent = "";
    (answer.lines || []).forEach(function (line) {
      var p = document.createElement("p");
      p.className = "known";
      p.textContent = line;
      out.appendChild(p);
    });
    if (answer.warning) {
      var w = document.createElement("p");
      w.className = "notice notice-error";
      w.textContent = answer.warning;
      out.appendChild(w);
    }
  }

  function ask() {
    var name = input.value.trim();
    var mine = ++asked;
    if (!name) {
      out.textContent = "";
      return;
    }
    var url = input.getAttribute("data-lookup") + "?name=" + encodeURIComponent(name) +
      "&kind=" + encodeURIComponent(kind()) + "&lang=" + encodeURIComponent(document.documentElement.lang.slice(0, 2));
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) { if (answer && mine === asked) show(answer); })
      .catch(function () {});
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(ask, 250);
  }

  input.addEventListener("input", later);
  form.querySelectorAll("input[name=kind]").forEach(function (radio) {
    radio.addEventListener("change", later);
  });
});
