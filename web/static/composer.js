// Live preview for every composer (web/composer.py): the Preview button works without this script;
// with it, the preview follows the typing. The HTML comes from POST /preview, rendered and sanitised by
// the server exactly as posting would; notes (what the sanitiser removed) are inserted as text.
(function () {
  "use strict";
  function setUp(area) {
    var box = document.getElementById(area.getAttribute("data-preview"));
    if (!box) { return; }
    var html = box.querySelector("[data-html]");
    var notes = box.querySelector("[data-notes]");
    var timer = null;
    var sent = null;
    function show(answer) {
      html.innerHTML = answer.html || "<p>(Nothing to show yet.)</p>";
      notes.textContent = "";
      if (answer.notes && answer.notes.length) {
        var intro = document.createElement("p");
        intro.textContent = "Not everything can be shown:";
        var list = document.createElement("ul");
        answer.notes.forEach(function (note) {
          var item = document.createElement("li");
          item.textContent = note;
          list.appendChild(item);
        });
        notes.appendChild(intro);
        notes.appendChild(list);
      }
      box.hidden = false;
    }
    function update() {
      var text = area.value;
      if (text === sent) { return; }
      sent = text;
      fetch("/preview", {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "Accept": "application/json"},
        body: JSON.stringify({body: text})
      }).then(function (response) {
        return response.ok ? response.json() : null;
      }).then(function (answer) {
        if (answer && area.value === text) { show(answer); }
      }).catch(function () { /* offline: the Preview button still works */ });
    }
    area.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(update, 350);
    });
  }
  document.querySelectorAll("textarea[data-preview]").forEach(setUp);
}());
