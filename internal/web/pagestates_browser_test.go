package web_test

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/twofold-id/twofold/internal/address"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/i18n"
	"github.com/twofold-id/twofold/internal/oidc"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
)

// axePath is axe-core's browser bundle, installed by `npm ci --prefix
// internal/web/testdata/axe` from the lock file beside it (.ci/run does).
const axePath = "testdata/axe/node_modules/axe-core/axe.min.js"

// pageWidths are the window widths every page state must fit without scrolling sideways:
// the smallest phone in use, a common phone, a desktop.
var pageWidths = []int64{320, 390, 1280}

// translatedWidths are the widths the walk checks in the other languages: the narrowest
// phone (where German's long words would push a page sideways first) and the desktop.
var translatedWidths = []int64{320, 1280}

// pageSchemes are the colour schemes every page state is checked in.
var pageSchemes = []string{"light", "dark"}

// axeRun runs axe-core on the whole page for WCAG 2.2 level A and AA and returns its
// violations as JSON.
const axeRun = `axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}, resultTypes: ['violations']})
	.then(r => JSON.stringify({passes: r.passes.length, violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
		nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)}))}))`

// midGroupBreaks returns the places where the text of the element with the id given as
// the argument wraps to a new line inside a group (not after a space or a dash), as
// "before|after" pairs; empty when it wraps only between groups.
const midGroupBreaks = `((id) => {
	const el = document.getElementById(id), text = el.firstChild, breaks = [];
	let top = null;
	for (let i = 0; i < text.length; i++) {
		const r = document.createRange(); r.setStart(text, i); r.setEnd(text, i + 1);
		const rect = r.getClientRects()[0];
		if (!rect || /\s/.test(text.data[i])) continue;
		if (top !== null && rect.top > top + 2 && !/[\s-]/.test(text.data[i - 1])) breaks.push(text.data.slice(0, i) + '|' + text.data.slice(i));
		top = rect.top;
	}
	return breaks.join(', ');
})`

// wantGroupsWhole fails when the element with id wraps inside a group at 320 px.
func (c *pageChecker) wantGroupsWhole(id string) {
	b := c.b
	b.t.Helper()
	b.do("narrow", emulateViewport(320, 800))
	if got := browserEval[string](b, midGroupBreaks+"("+browserJSString(id)+")"); got != "" {
		b.t.Errorf("#%s wraps inside a group at 320 px: %s", id, got)
	}
	b.do("reset", emulateViewport(1280, 800))
}

// pageChecker checks each page state a walk reaches: at every width it must not scroll
// sideways, and in both colour schemes axe-core must find nothing.
type pageChecker struct {
	b       *browserTab
	widths  []int64 // pageWidths when nil
	axe     string
	shots   string
	checked []string
	rules   int // rules axe-core applied, over all pages
}

// check checks the page the tab shows now, named name in failures and screenshots.
func (c *pageChecker) check(name string) {
	b := c.b
	b.t.Helper()
	c.checked = append(c.checked, name)
	for _, scheme := range pageSchemes {
		b.do("emulate "+scheme, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
			return err
		}))
		widths := c.widths
		if widths == nil {
			widths = pageWidths
		}
		for _, w := range widths {
			b.do(fmt.Sprintf("width %d", w), emulateViewport(w, 800))
			if over := browserEval[int](b, `document.documentElement.scrollWidth - window.innerWidth`); over > 0 {
				b.t.Errorf("%s at %d px (%s): the page is %d px wider than the window: %s",
					name, w, scheme, over, browserEval[string](b, overflowing))
			}
			if w != 1280 || scheme == "light" {
				c.screenshot(fmt.Sprintf("%s-%d-%s", name, w, scheme))
			}
		}
		// axe at a phone width: the layout that differs most from the desktop.
		b.do("phone width", emulateViewport(390, 800))
		if !browserEval[bool](b, `typeof axe === 'object'`) {
			b.do("inject axe-core", chromedp.Evaluate[chromedp.Void](c.axe))
		}
		raw, err := browserRun(b, chromedp.Evaluate[string](axeRun, chromedp.EvalAwaitPromise))
		if err != nil {
			b.t.Fatalf("%s: run axe-core: %v", name, err)
		}
		var result struct {
			Passes     int
			Violations []struct {
				ID, Impact, Help string
				Nodes            []string
			}
		}
		if err := json.Unmarshal([]byte(raw), &result); err != nil {
			b.t.Fatalf("%s: axe-core answered %q: %v", name, raw, err)
		}
		if result.Passes == 0 {
			b.t.Fatalf("%s: axe-core checked no rule: %s", name, raw)
		}
		c.rules += result.Passes + len(result.Violations)
		for _, v := range result.Violations {
			b.t.Errorf("%s (%s, %s): axe %s (%s): %s\n\t%s", name, b.location(), scheme, v.ID, v.Impact, v.Help,
				strings.Join(v.Nodes, "\n\t"))
		}
	}
	b.do("reset", emulateViewport(1280, 800))
}

// screenshot saves the page as a PNG in the checker's directory.
func (c *pageChecker) screenshot(name string) {
	img, err := browserRun(c.b, chromedp.FullScreenshot(80))
	if err != nil {
		c.b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(c.shots, name+".jpg"), img, 0o644); err != nil {
		c.b.t.Fatal(err)
	}
}

// submit clicks the button an XPath finds and waits for the page it leads to, wherever
// that is.
func (b *browserTab) submit(xpath string) {
	b.t.Helper()
	if _, err := b.clickResponse(xpath); err != nil {
		b.t.Fatalf("click %s on %s: %v", xpath, b.location(), err)
	}
}

// pngEncode writes a small logo.
func pngEncode(w io.Writer) error {
	img := image.NewRGBA(image.Rect(0, 0, 56, 28))
	for x := range 56 {
		for y := range 28 {
			img.Set(x, y, color.RGBA{0x2f, 0x6f, 0xd0, 0xff})
		}
	}
	return png.Encode(w, img)
}

// userAgent sets the User-Agent of every request it carries.
type userAgent struct {
	ua   string
	next http.RoundTripper
}

func (u userAgent) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", u.ua)
	return u.next.RoundTrip(r)
}

// TestPageStates walks every page state a person can reach, as a visitor, a user, an agent,
// and through an application, and checks each one (pageChecker): no sideways scrolling at
// 320, 390 and 1280 px, and no axe-core violation of WCAG 2.2 A/AA, in the light and the
// dark colour scheme. It walks again in German and in French (chosen with the language
// switcher), at 320 and 1280 px. Screenshots of every state go to a temporary directory
// named in the log (or $TWOFOLD_SCREENSHOT_DIR).
func TestPageStates(t *testing.T) {
	inEveryLanguage(t, walkPageStates)
}

// inEveryLanguage runs walk as a subtest for each language of i18n.Languages, with
// Chromium and axe-core's bundle; it skips (or fails, when every tool is required)
// without them.
func inEveryLanguage(t *testing.T, walk func(t *testing.T, chromium, axe, lang string)) {
	t.Helper()
	chromium := testutil.RequireTool(t, "chromium")
	axe, err := os.ReadFile(axePath)
	if err != nil {
		testutil.Unavailable(t, "axe-core not installed (run npm ci --prefix internal/web/testdata/axe): %v", err)
	}
	for _, l := range i18n.Languages {
		t.Run(l.Tag, func(t *testing.T) { walk(t, chromium, string(axe), l.Tag) })
	}
}

// chooseLanguage makes lang the language of the tab's pages with the language switcher
// at the foot of the sign-in page, as a person would, and has c check the pages in a
// language other than the default at translatedWidths. Nothing happens for the default.
func (c *pageChecker) chooseLanguage(lang string) {
	b := c.b
	b.t.Helper()
	b.lang = lang
	if lang == i18n.Default {
		return
	}
	c.widths = translatedWidths
	b.open("/login")
	b.do("choose "+lang, chromedp.SetValue(chromedp.ID("lang-choice"), lang))
	b.click(`//form[@action="/language"]//button`, "/login")
	if got := browserEval[string](b, `document.documentElement.lang`); got != lang {
		b.t.Fatalf("after choosing %s with the switcher, the page is in %q", lang, got)
	}
}

// shotsDir returns the directory for the screenshots of a walk named name in lang:
// $TWOFOLD_SCREENSHOT_DIR/name/lang when set, else a new temporary one.
func shotsDir(t *testing.T, name, lang string) string {
	t.Helper()
	dir := os.Getenv(browserScreenshotEnv)
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "twofold-"+name+"-"+lang+"-"); err != nil {
			t.Fatal(err)
		}
	} else if dir = filepath.Join(dir, name, lang); os.MkdirAll(dir, 0o755) != nil {
		t.Fatalf("screenshot directory %s", dir)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// walkPageStates is TestPageStates in lang. Every text it looks for (a button, a heading,
// a sentence) comes from the catalog through tr, so the walk runs in every language.
func walkPageStates(t *testing.T, chromium, axe, lang string) {
	tr := func(key string, args ...any) string { return i18n.T(lang, key, args...) }
	button := func(key string) string { return `//button[normalize-space()="` + tr(key) + `"]` }
	// Branded, so the brand's style sheet and logo are on every page checked; the
	// built-in colours are checked by TestStyleContrast.
	logo := filepath.Join(t.TempDir(), "logo.png")
	var logoPNG bytes.Buffer
	if err := pngEncode(&logoPNG); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(logo, logoPNG.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := testserver.New(t, testserver.Options{Config: func(c *config.Config) {
		c.UI = config.UI{ProductName: "Example ID", LogoFile: logo, AccentColor: "#2f6fd0"}
		c.Registration.Enabled = true
		c.Registration.RequestsPerIPHour, c.Registration.RequestsPerEmailHour = 1000, 1000
		c.Registration.MailsPerHour = 1000
		c.MFA.PhishingResistant = []string{"admin"}
	}})
	srv.CreateUser(t, "ada", "ada@example.com", "user")
	adaSecret, _ := srv.Enroll(t, srv.Client(t), "ada")
	srv.CreateUser(t, "bob", "bob@example.com", "user")
	srv.CreateUser(t, "sam", "sam@example.com", "support")
	samSecret, _ := srv.Enroll(t, srv.Client(t), "sam")
	appURL := startTenantApp(t, srv, false)

	// Another session of ada's with a long user agent, for the sessions table.
	other := srv.Client(t)
	other.HTTP.Transport = userAgent{next: http.DefaultTransport, ua: "Mozilla/5.0 (Linux; Android 14; SM-S918B Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.230 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/445.0.0.34.118;]"}
	other.Login("ada", "mfa_required")
	srv.NextStep()
	other.PostJSON("/api/v1/login/totp", map[string]string{"code": srv.Code(adaSecret, 0)})

	b := browserStart(t, chromium, srv.URL)
	c := &pageChecker{b: b, axe: axe, shots: shotsDir(t, "pages", lang)}
	c.chooseLanguage(lang)

	// A visitor.
	b.open("/login")
	c.check("sign-in")
	b.open("/nope")
	c.check("not-found")
	b.open("/setup")
	c.check("first-admin-setup")
	b.open("/password/forgot")
	c.check("forgot-password")
	b.typeInto("login", "ada@example.com")
	b.do("send", clickOn(chromedp.Search(`//main//button[@type="submit" or not(@type)]`)),
		chromedp.WaitVisible(chromedp.Search(`//h1[normalize-space()="`+tr("forgot_sent.title")+`"]`)))
	c.check("forgot-password-sent")
	link, err := url.Parse(srv.LastMailTo(t, "ada@example.com").Link("/password/reset?token="))
	if err != nil {
		t.Fatal(err)
	}
	b.do("open the reset link", chromedp.Navigate(srv.URL+link.RequestURI()))
	c.check("reset-password")

	b.open("/support")
	c.check("support-form")
	b.typeInto("full_name", "Ada Lovelace")
	b.typeInto("email", "ada@example.com")
	b.typeInto("organisation", "Analytical Engines")
	b.do("choose the category", chromedp.SetValue(chromedp.ID("category"), "lost_device"))
	b.typeInto("description", "I lost my phone on the train.")
	b.click(button("support.submit"), "/support/sent")
	c.check("support-sent")
	ref := strings.TrimSpace(b.text("#reference"))

	b.open("/register")
	c.check("register")
	b.typeInto("username", "reg")
	b.typeInto("email", "reg@example.com")
	b.typeInto("password", testserver.Password)
	b.click(button("register.submit"), "/register/sent")
	c.check("register-sent")
	reglink := srv.LastMailTo(t, "reg@example.com").Link("/register/confirm?token=")
	b.do("open the registration link", chromedp.Navigate(reglink))
	c.check("register-confirm")

	if _, err := srv.Invite.Invite(context.Background(), auth.NewUser{Username: "ivy", Email: "ivy@example.com"}, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	b.do("open the invitation", chromedp.Navigate(srv.LastMailTo(t, "ivy@example.com").Link("/invite?token=")))
	c.check("invite")

	// A new user: setup, Successful!, Password & Security.
	b.open("/login")
	b.typeInto("username", "bob")
	b.typeInto("password", testserver.Password)
	b.click(button("login.submit"), "/mfa/setup")
	c.check("mfa-setup")
	c.wantGroupsWhole("secret")
	bobSecret := testserver.DecodeSecret(t, strings.TrimSpace(b.text("#secret")))
	b.typeInto("code", srv.Code(bobSecret, 0))
	b.click(button("setup.confirm"), "/recovery-code")
	c.check("successful")
	c.wantGroupsWhole("recovery-code")
	b.tick("saved")
	b.click(button("common.continue"), "/account/security")
	c.check("security-new-user")
	b.typeInto("new_email", "bob.new@example.org")
	b.typeInto("email_password", testserver.Password)
	b.click(button("security.email_submit"), "/account/security")
	c.check("security-address-sent")
	addr, err := url.Parse(srv.LastMailTo(t, "bob.new@example.org").Link(address.ConfirmPath + "?token="))
	if err != nil {
		t.Fatal(err)
	}
	b.do("open the address link", chromedp.Navigate(srv.URL+addr.RequestURI()))
	c.check("email-confirm")
	b.submit(button("setup.confirm"))
	c.check("email-confirmed")

	b.open("/logout")
	c.check("sign-out-confirm")
	b.click(`//main`+button("nav.sign_out"), "/login")
	c.check("signed-out")

	// A user with an authenticator: code, recovery, and the security page with two sessions.
	b.signInWithPassword("ada")
	c.check("code")
	b.click(`//a[@href="/login/recovery"]`, "/login/recovery")
	c.check("recovery")
	b.open("/login/code")
	srv.NextStep()
	b.typeInto("code", srv.Code(adaSecret, 0))
	b.click(button("code.submit"), "/account/security")
	c.check("security")
	// An application: consent, account selection, logout confirmation.
	b.do("open the tenant app", chromedp.Navigate(appURL+"/"))
	b.click(`//a[@id="login"]`, oidc.CallbackPath)
	c.check("oidc-consent")
	clients, err := srv.Store.ListOIDCClients(t.Context())
	if err != nil || len(clients) != 1 {
		t.Fatalf("clients %v: %v", clients, err)
	}
	q := url.Values{"client_id": {clients[0].ID}, "redirect_uri": {appURL + "/callback"}, "response_type": {"code"},
		"scope": {"openid"}, "prompt": {"select_account"}, "state": {"st"}, "nonce": {"n"}}
	b.do("ask to select an account", chromedp.Navigate(srv.URL+oidc.AuthorizePath+"?"+q.Encode()))
	c.check("oidc-select-account")
	// An application asking for a phishing-resistant sign-in of a session with a code: the
	// page asking for the key, without a key and with one.
	q = url.Values{"client_id": {clients[0].ID}, "redirect_uri": {appURL + "/callback"}, "response_type": {"code"},
		"scope": {"openid"}, "acr_values": {oidc.ACRPhishingResistant}, "state": {"st"}, "nonce": {"n"}}
	b.do("ask for a security key", chromedp.Navigate(srv.URL+oidc.AuthorizePath+"?"+q.Encode()))
	b.wantHeading(tr("key_confirm.title"))
	c.check("oidc-key-none")
	srv.AddKeyRecord(t, "ada", "YubiKey 5 NFC on the blue keyring")
	b.do("ask for a security key again", chromedp.Navigate(srv.URL+oidc.AuthorizePath+"?"+q.Encode()))
	b.wantHeading(tr("key_confirm.title"))
	c.check("oidc-key")
	// Password & Security with a key: within 10 minutes of the code, keys can be added and
	// removed; later a confirmation comes first.
	b.open("/account/security")
	c.check("security-keys")
	srv.Clock.Advance(11 * time.Minute)
	b.open("/account/security")
	b.wantText(tr("security.keys_proof"))
	c.check("security-keys-confirm")
	// The reset page of an account with a key offers the key first, the recovery code beside.
	wantStatus(t, srv.Client(t).PostJSON("/api/v1/password/forgot", map[string]string{"login": "ada"}), http.StatusAccepted)
	keyLink, err := url.Parse(srv.LastMailTo(t, "ada@example.com").Link("/password/reset?token="))
	if err != nil {
		t.Fatal(err)
	}
	b.do("open the reset link of a key user", chromedp.Navigate(srv.URL+keyLink.RequestURI()))
	b.wantHeading(tr("reset.title_code"))
	c.check("reset-password-key")
	q = url.Values{"client_id": {clients[0].ID}, "post_logout_redirect_uri": {appURL + "/"}, "state": {"st"}}
	b.do("the application's logout request", chromedp.Navigate(srv.URL+oidc.EndSessionPath+"?"+q.Encode()))
	b.wantPath(oidc.LogoutConfirmPath)
	c.check("oidc-logout-confirm")
	b.open("/logout")
	b.click(`//main`+button("nav.sign_out"), "/login")

	// A user with a key: it is offered first after the password.
	b.signInWithPassword("ada")
	b.wantText(tr("code.key_intro"))
	c.check("code-key")
	b.open("/logout")
	b.click(`//main`+button("nav.sign_out"), "/login")

	// An agent: the case list, a case, and the user's confirmation of the mailed link.
	b.signInWithPassword("sam")
	srv.NextStep()
	b.typeInto("code", srv.Code(samSecret, 0))
	b.submit(button("code.submit"))
	b.open("/support/cases")
	c.check("support-cases")
	b.click(`//a[normalize-space()="`+ref+`"]`, "/support/cases/"+ref)
	c.check("support-case")
	b.click(button("case.assign"), "/support/cases/"+ref)
	b.click(button("case.verify_submit"), "/support/cases/"+ref)
	c.check("support-case-waiting")
	verify, err := url.Parse(srv.LastMailTo(t, "ada@example.com").Link("/support/verify?token="))
	if err != nil {
		t.Fatal(err)
	}
	b.do("open the verification link", chromedp.Navigate(srv.URL+verify.RequestURI()))
	c.check("support-verify")
	b.submit(button("setup.confirm"))
	c.check("support-verified")

	// An administrator whom mfa.phishing_resistant covers: the forced setup offers only a key.
	b.open("/logout")
	b.click(`//main`+button("nav.sign_out"), "/login")
	srv.CreateUser(t, "ann", "ann@example.com", "admin")
	b.open("/login")
	b.typeInto("username", "ann")
	b.typeInto("password", testserver.Password)
	b.click(button("login.submit"), "/mfa/setup")
	b.wantHeading(tr("setup.title_key"))
	c.check("mfa-setup-key-only")

	t.Logf("checked %d page states (%d axe-core rule applications): %s", len(c.checked), c.rules, strings.Join(c.checked, ", "))
}

// TestAdminPageStates walks the console pages of API tokens and the audit log, checked as
// TestPageStates checks every page, in every language as TestPageStates walks them. It has
// a server of its own: TestPageStates' policy wants a security key of administrators,
// which a browser test cannot hold yet.
func TestAdminPageStates(t *testing.T) {
	inEveryLanguage(t, walkAdminPageStates)
}

// walkAdminPageStates is TestAdminPageStates in lang.
func walkAdminPageStates(t *testing.T, chromium, axe, lang string) {
	tr := func(key string, args ...any) string { return i18n.T(lang, key, args...) }
	srv := testserver.New(t, testserver.Options{})
	srv.CreateUser(t, "opsadmin", "opsadmin@example.com", "admin")
	opsSecret, _ := srv.Enroll(t, srv.Client(t), "opsadmin")
	b := browserStart(t, chromium, srv.URL)
	c := &pageChecker{b: b, axe: axe, shots: shotsDir(t, "admin-pages", lang)}
	c.chooseLanguage(lang)

	b.signInWithPassword("opsadmin")
	srv.NextStep()
	b.typeInto("code", srv.Code(opsSecret, 0))
	b.submit(`//button[normalize-space()="` + tr("code.submit") + `"]`)
	b.open("/admin/tokens")
	c.check("admin-tokens-empty")
	b.typeInto("name", "nightly export")
	b.submitRefused(`//button[normalize-space()="`+tr("tokens.create")+`"]`, http.StatusBadRequest)
	c.check("admin-tokens-error")
	b.tick("scope-audit-read")
	b.click(`//button[normalize-space()="`+tr("tokens.create")+`"]`, "/admin/tokens/created")
	c.check("admin-token-created")
	b.click(`//a[normalize-space()="`+tr("token_created.back")+`"]`, "/admin/tokens")
	c.check("admin-tokens")
	b.open("/admin/audit")
	c.check("admin-audit")
	// The page's CSV export link, followed by the browser with the console session: the
	// whole matching log, with the token just created in it.
	export, err := browserRun(b, chromedp.Evaluate[string](`(async () => {
		const a = document.querySelector('a[href*="/admin/audit/export"][href*="format=csv"]');
		if (!a) return "no CSV export link";
		const r = await fetch(a.href);
		return r.status + " " + r.headers.get("content-type") + "\n" + await r.text();
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("follow the CSV export link: %v", err)
	}
	if !strings.HasPrefix(export, "200 text/csv") || !strings.Contains(export, "api_token.created") {
		t.Errorf("the console's CSV export answered:\n%.600s", export)
	}
	b.do("filter by a bad date", chromedp.Navigate(srv.URL+"/admin/audit?since=not-a-date"))
	c.check("admin-audit-bad-filter")
	t.Logf("checked %d page states: %s", len(c.checked), strings.Join(c.checked, ", "))
}
