// Times in the viewer's words and time zone: every <time datetime> shows "3 hours ago" (or "yesterday"),
// with the exact local date and time in its title. Without JavaScript the page shows the UTC time the
// server wrote. Refreshed each minute, so an open page stays right.
(function () {
  "use strict";
  var units = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60]];
  var lang = document.documentElement.lang || "en";
  var relative = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(lang, { numeric: "auto" }) : null;
  var exact = window.Intl ? new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" }) : null;

  function words(seconds) {
    for (var i = 0; i < units.length; i++) {
      if (Math.abs(seconds) >= units[i][1]) {
        return relative.format(Math.round(seconds / units[i][1]), units[i][0]);
      }
    }
    return relative.format(0, "second");  // "now"
  }

  function show() {
    if (!relative || !exact) return;
    var times = document.querySelectorAll("time[datetime]");
    for (var i = 0; i < times.length; i++) {
      var element = times[i];
      var moment = new Date(element.getAttribute("datetime"));
      if (isNaN(moment.getTime()) || element.hasAttribute("data-exact")) continue;
      if (!element.hasAttribute("data-utc")) element.setAttribute("data-utc", element.textContent);
      element.textContent = words((moment.getTime() - Date.now()) / 1000);
      element.title = exact.format(moment);
    }
  }

  show();
  window.setInterval(show, 60000);
})();
