// twofold: small enhancements. Every page works without this file.
(function () {
  "use strict";
  // The page's texts for this file come in its language on <body data-t-...>.
  var say = function (name, fallback) { return document.body.getAttribute("data-t-" + name) || fallback; };
  document.querySelectorAll("[data-copy]").forEach(function (btn) {
    var target = document.getElementById(btn.getAttribute("data-copy"));
    var status = document.querySelector("[data-copy-status]");
    if (!target || !navigator.clipboard) return;
    btn.hidden = false;
    btn.addEventListener("click", function () {
      var text = target.textContent.trim();
      // A key is shown in groups for reading; apps take it whole.
      if (btn.hasAttribute("data-copy-compact")) text = text.replace(/\s+/g, "");
      navigator.clipboard.writeText(text).then(function () {
        if (status) status.textContent = say("copied", "Copied to the clipboard.");
      }, function () {
        if (status) status.textContent = say("copy-failed", "Copying failed: select the code and copy it by hand.");
      });
    });
  });
  // Times come in UTC with the zone named; show them in the viewer's zone, named too.
  if (window.Intl && Intl.DateTimeFormat) {
    var fmt = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
      year: "numeric", month: "short", day: "numeric",
      hour: "2-digit", minute: "2-digit", timeZoneName: "short"
    });
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    document.querySelectorAll("time[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d.getTime())) return;
      el.title = el.textContent + (zone ? " (" + zone + ")" : "");
      el.textContent = fmt.format(d);
    });
  }
  var cd = document.querySelector("[data-countdown]");
  if (cd) {
    var tick = function () {
      var left = 30 - (Math.floor(Date.now() / 1000) % 30);
      cd.textContent = say("countdown", "A new code appears in %s s.").replace("%s", left);
    };
    cd.hidden = false;
    tick();
    setInterval(tick, 1000);
  }
})();
