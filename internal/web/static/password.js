// twofold: a "Show password" toggle after each password field. The fields work without
// this file; the toggle is made here, so without JavaScript none shows.
(function () {
  "use strict";
  document.querySelectorAll('input[type="password"][id]').forEach(function (input) {
    var label = document.querySelector('label[for="' + input.id + '"]');
    var btn = document.createElement("button");
    btn.type = "button";
    btn.className = "reveal";
    // The page's text for the toggle comes in its language on <body data-t-show-password>.
    var show = document.body.getAttribute("data-t-show-password") || "Show password";
    btn.textContent = show;
    // Several fields on one page each get a toggle: the name says which one it shows.
    if (label) btn.setAttribute("aria-label", show + ": " + label.textContent.trim());
    btn.setAttribute("aria-controls", input.id);
    btn.setAttribute("aria-pressed", "false");
    var set = function (shown) {
      input.type = shown ? "text" : "password";
      btn.setAttribute("aria-pressed", shown ? "true" : "false");
    };
    btn.addEventListener("click", function () { set(input.type === "password"); });
    // A shown password is hidden again before the form goes, so the browser neither
    // offers to remember it as plain text nor leaves it in view on the next page.
    if (input.form) input.form.addEventListener("submit", function () { set(false); });
    input.insertAdjacentElement("afterend", btn);
  });
})();
