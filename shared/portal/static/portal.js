// regwatch portal: the little script there is (pages work without it).
// A checkbox with data-reveal="<input id>" shows or hides that password field.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("input[data-reveal]").forEach(function (box) {
    var field = document.getElementById(box.getAttribute("data-reveal"));
    if (!field) return;
    var label = box.closest("label");
    if (label) label.hidden = false;
    box.addEventListener("change", function () {
      field.type = box.checked ? "text" : "password";
    });
  });
});
