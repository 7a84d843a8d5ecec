// twofold: small enhancements. Every page works without this file.
(function () {
  "use strict";
  document.querySelectorAll("[data-copy]").forEach(function (btn) {
    var target = document.getElementById(btn.getAttribute("data-copy"));
    var status = document.querySelector("[data-copy-status]");
    if (!target || !navigator.clipboard) return;
    btn.hidden = false;
    btn.addEventListener("click", function () {
      navigator.clipboard.writeText(target.textContent.trim()).then(function () {
        if (status) status.textContent = "Copied to the clipboard.";
      }, function () {
        if (status) status.textContent = "Copying failed: select the code and copy it by hand.";
      });
    });
  });
  var cd = document.querySelector("[data-countdown]");
  if (cd) {
    var tick = function () {
      var left = 30 - (Math.floor(Date.now() / 1000) % 30);
      cd.textContent = "A new code appears in " + left + " s.";
    };
    cd.hidden = false;
    tick();
    setInterval(tick, 1000);
  }
})();
