// regwatch portal, notifier pages: copy a URL to the clipboard (the page works without it).
// A button with data-copy="<input id>" is shown, and copies that field's value; where the
// clipboard cannot be written the field's text is selected for Ctrl+C. Read-only fields with
// data-select select all their text when focused or clicked.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("input[data-select]").forEach(function (field) {
    var all = function () { field.select(); };
    field.addEventListener("focus", all);
    field.addEventListener("click", all);
  });
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById(button.getAttribute("data-status"));
    if (!field) return;
    button.hidden = false;
    var say = function (text) { if (status) status.textContent = text || ""; };
    button.addEventListener("click", function () {
      field.focus();
      field.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(
          function () { say(button.getAttribute("data-copied")); },
          function () { say(button.getAttribute("data-select-hint")); }
        );
      } else {
        say(button.getAttribute("data-select-hint"));
      }
    });
  });
});
