// Suggest existing tags while a skill, soft skill or interest is typed: every <input data-suggest="kind"
// list="..."> gets its datalist filled from /api/tags with what follows the last comma. Without
// JavaScript these stay plain text fields.
(function () {
  "use strict";
  var inputs = document.querySelectorAll("input[data-suggest][list]");
  Array.prototype.forEach.call(inputs, function (input) {
    var list = document.getElementById(input.getAttribute("list"));
    var timer = null;
    var asked = "";
    if (!list) return;
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        var parts = input.value.split(/[,;]/);
        var typed = parts[parts.length - 1].trim();
        var before = input.value.slice(0, input.value.length - parts[parts.length - 1].length);
        if (typed.length < 2 || typed === asked) return;
        asked = typed;
        fetch("/api/tags?kind=" + encodeURIComponent(input.getAttribute("data-suggest")) +
              "&q=" + encodeURIComponent(typed), { headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : { tags: [] }; })
          .then(function (answer) {
            list.textContent = "";
            answer.tags.forEach(function (label) {
              var option = document.createElement("option");
              option.value = (before ? before.replace(/\s*$/, " ") : "") + label;
              list.appendChild(option);
            });
          })
          .catch(function () { list.textContent = ""; });
      }, 150);
    });
  });
})();
