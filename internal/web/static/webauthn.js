// twofold: security keys and passkeys (WebAuthn). The browser's key prompt needs this file;
// every page that offers a key says so where the key's button would be without it.
//
// Elements it drives:
//   form[data-webauthn="register"]  adds a key: its name field, then the key's prompt
//   [data-webauthn="login"]         a button: sign in (or confirm) with one of the user's keys
//   [data-webauthn="passkey"]       a button: sign in with a passkey, no password
//   [data-webauthn="reset"]         a button: the second factor of a password reset (data-token
//                                   is the link's token; the answer names the next page)
//   form[data-webauthn-conditional] the sign-in form whose username field offers passkeys
// data-next on each is where the browser goes when the key is accepted (a register form
// follows the "next" of the answer instead). [data-webauthn-js] elements are shown and
// [data-webauthn-nojs] hidden when the browser can use keys. [data-webauthn-status] next to
// the control shows what went wrong. Every text comes from the data-t-key-* attributes the
// server renders on <body> in the page's language: a refusal is told by its problem's
// stable code, never by its detail (which is English), and the script holds no words.
(function () {
  "use strict";
  var supported = !!(window.PublicKeyCredential && navigator.credentials && navigator.credentials.create &&
    window.fetch && window.Promise);
  var body = document.body;

  function msg(name) {
    var get = function (n) { return body ? body.getAttribute("data-t-key-" + n) : null; };
    return get(name) || get("failed") || "";
  }

  // byCode names the text for a problem's code; a code not listed gets "failed".
  var byCode = {
    invalid_credential: "invalid", invalid_credentials: "invalid", invalid_code: "invalid",
    challenge_expired: "expired", wrong_origin: "origin", key_not_registered: "not-registered",
    user_verification_required: "uv", key_counter_regressed: "cloned",
    key_already_registered: "registered", key_model_not_allowed: "model",
    reauthentication_required: "reauth",
    last_factor: "last-factor",
    security_key_required: "required",
    throttled: "too-many", rate_limited: "too-many",
    unauthenticated: "signed-out",
    busy: "busy", unavailable: "busy"
  };

  document.querySelectorAll("[data-webauthn-nojs]").forEach(function (el) {
    if (supported) {
      el.hidden = true;
    } else if (window.PublicKeyCredential === undefined && el.hasAttribute("data-webauthn-unsupported")) {
      el.textContent = el.getAttribute("data-webauthn-unsupported");
    }
  });
  if (!supported) return;
  document.querySelectorAll("[data-webauthn-js]").forEach(function (el) { el.hidden = false; });

  // base64url without padding, as the WebAuthn JSON forms use it.
  function toBytes(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function toB64url(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function withIDs(list) {
    return (list || []).map(function (c) {
      var o = Object.assign({}, c);
      o.id = toBytes(c.id);
      return o;
    });
  }

  function creationOptions(o) {
    if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function") {
      return PublicKeyCredential.parseCreationOptionsFromJSON(o);
    }
    var p = Object.assign({}, o);
    p.challenge = toBytes(o.challenge);
    p.user = Object.assign({}, o.user, { id: toBytes(o.user.id) });
    p.excludeCredentials = withIDs(o.excludeCredentials);
    return p;
  }
  function requestOptions(o) {
    if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function") {
      return PublicKeyCredential.parseRequestOptionsFromJSON(o);
    }
    var p = Object.assign({}, o);
    p.challenge = toBytes(o.challenge);
    p.allowCredentials = withIDs(o.allowCredentials);
    return p;
  }

  // credentialJSON is PublicKeyCredential.toJSON(), by hand where the browser lacks it.
  function credentialJSON(c) {
    if (typeof c.toJSON === "function") {
      try { return c.toJSON(); } catch (e) { /* fall through */ }
    }
    var r = c.response, out = {
      id: c.id, rawId: toB64url(c.rawId), type: c.type,
      authenticatorAttachment: c.authenticatorAttachment || undefined,
      clientExtensionResults: c.getClientExtensionResults ? c.getClientExtensionResults() : {},
      response: { clientDataJSON: toB64url(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = toB64url(r.attestationObject);
      if (r.getTransports) out.response.transports = r.getTransports();
    } else {
      out.response.authenticatorData = toB64url(r.authenticatorData);
      out.response.signature = toB64url(r.signature);
      if (r.userHandle && r.userHandle.byteLength) out.response.userHandle = toB64url(r.userHandle);
    }
    return out;
  }

  // post sends JSON to twofold and resolves with the answer's JSON; a refusal rejects
  // with its problem document's code (none when the answer is not a problem document).
  function post(path, data) {
    return fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(data || {})
    }).then(function (resp) {
      return resp.text().then(function (text) {
        var doc = null;
        try { doc = text ? JSON.parse(text) : {}; } catch (e) { doc = null; }
        if (!resp.ok) {
          var err = new Error("problem");
          err.code = (doc && doc.code) || "";
          throw err;
        }
        return doc || {};
      });
    });
  }

  // why turns a failure of the browser's prompt or of twofold into words.
  function why(e) {
    if (e && (e.name === "NotAllowedError" || e.name === "AbortError")) {
      return msg("cancelled");
    }
    if (e && e.name === "InvalidStateError") {
      return msg("registered");
    }
    if (e && e.name === "SecurityError") {
      return msg("origin");
    }
    if (e && e.name === "NotSupportedError") {
      return msg("unsupported");
    }
    return msg((e && e.code && byCode[e.code]) || "failed");
  }

  function statusOf(el) {
    var box = el.closest("form, section, div") || document;
    return box.querySelector("[data-webauthn-status]");
  }
  function say(el, text) {
    var s = statusOf(el);
    if (s) {
      s.textContent = text;
      s.hidden = !text;
    }
  }
  function busy(el, on) {
    var b = el.tagName === "FORM" ? el.querySelector("button[type=submit], button:not([type])") : el;
    if (b) b.disabled = on;
  }
  function go(to) { window.location.assign(to || "/"); }

  // Adding a key: twofold's options, the browser's prompt, then the page route that keeps
  // the key (and, for a first factor, holds the recovery code for "Successful!").
  document.querySelectorAll("form[data-webauthn=register]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var nameField = form.querySelector("[name=name]");
      var name = nameField ? nameField.value.trim() : "";
      if (nameField && !name) {
        say(form, msg("name"));
        nameField.focus();
        return;
      }
      busy(form, true);
      say(form, "");
      post(form.getAttribute("data-begin") || "/api/v1/account/mfa/webauthn/register", {}).then(function (o) {
        return navigator.credentials.create({ publicKey: creationOptions(o.publicKey) });
      }).then(function (cred) {
        return post(form.getAttribute("action"), { name: name, credential: credentialJSON(cred) });
      }).then(function (done) {
        go(done.next || form.getAttribute("data-next"));
      }).catch(function (e) {
        busy(form, false);
        say(form, why(e));
      });
    });
  });

  // A key as the second factor, or to confirm it is the user (step-up, recent proof).
  document.querySelectorAll("[data-webauthn=login]").forEach(function (btn) {
    btn.addEventListener("click", function (ev) {
      ev.preventDefault();
      busy(btn, true);
      say(btn, "");
      post("/api/v1/login/webauthn", {}).then(function (o) {
        return navigator.credentials.get({ publicKey: requestOptions(o.publicKey) });
      }).then(function (cred) {
        return post("/api/v1/login/webauthn/finish", { credential: credentialJSON(cred) });
      }).then(function () {
        go(btn.getAttribute("data-next"));
      }).catch(function (e) {
        busy(btn, false);
        say(btn, why(e));
      });
    });
  });

  // A key as the second factor of a forgotten-password reset: the challenge is bound to the
  // link, and the page route keeps the proof for the new-password step. A link that cannot
  // be used any more is told by its own page, so the browser reloads it.
  document.querySelectorAll("[data-webauthn=reset]").forEach(function (btn) {
    btn.addEventListener("click", function (ev) {
      ev.preventDefault();
      var token = btn.getAttribute("data-token") || "";
      busy(btn, true);
      say(btn, "");
      post("/api/v1/password/reset/webauthn", { token: token }).then(function (o) {
        return navigator.credentials.get({ publicKey: requestOptions(o.publicKey) });
      }).then(function (cred) {
        return post("/password/reset/key", { token: token, credential: credentialJSON(cred) });
      }).then(function (done) {
        go(done.next);
      }).catch(function (e) {
        if (e && e.code === "invalid_token") {
          window.location.reload();
          return;
        }
        busy(btn, false);
        say(btn, why(e));
      });
    });
  });

  // A passkey sign-in: the explicit button, and the browser's autofill offer (conditional UI).
  // Each begin call's challenge has a cookie of its own, so the two may run at once.
  var conditional = null; // the autofill offer, aborted by a button's click
  function passkey(mediation, signal) {
    return post("/api/v1/login/passkey", {}).then(function (o) {
      var req = { publicKey: requestOptions(o.publicKey) };
      if (mediation) req.mediation = mediation;
      if (signal) req.signal = signal;
      return navigator.credentials.get(req);
    }).then(function (cred) {
      return post("/api/v1/login/passkey/finish", { credential: credentialJSON(cred) });
    });
  }
  document.querySelectorAll("[data-webauthn=passkey]").forEach(function (btn) {
    btn.addEventListener("click", function (ev) {
      ev.preventDefault();
      if (conditional) conditional.abort();
      busy(btn, true);
      say(btn, "");
      passkey("", null).then(function () {
        go(btn.getAttribute("data-next"));
      }).catch(function (e) {
        busy(btn, false);
        say(btn, why(e));
      });
    });
  });
  var cform = document.querySelector("form[data-webauthn-conditional]");
  if (cform && typeof PublicKeyCredential.isConditionalMediationAvailable === "function" && window.AbortController) {
    // The controller exists before the offer starts, so that a click meanwhile cancels it.
    var offer = conditional = new AbortController();
    PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
      if (!ok || offer.signal.aborted) return;
      passkey("conditional", offer.signal).then(function () {
        go(cform.getAttribute("data-next"));
      }).catch(function (e) {
        // Autofill is only an offer: aborted by the button or refused at this address is
        // no news; a passkey the server refused (a problem with a code) is.
        if (e && e.code && e.code !== "not_found") say(cform, why(e));
      });
    }).catch(function () { /* no autofill offer */ });
  }
})();
