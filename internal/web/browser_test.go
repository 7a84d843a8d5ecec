package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/twofold-id/twofold/internal/i18n"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
	"github.com/twofold-id/twofold/internal/totp"
)

// browserStepTimeout bounds each step of a browser test (an action, a page load, an axe-core
// run, a screenshot), so that a hung page fails the test instead of blocking the run. It
// bounds a step, not a walk: a walk's steps add up with the machine's load (TestPageStates
// took 39 s on an idle machine and 105 s at a load average of 15 on two cores), and a
// bound on the whole walk failed it under load while every step made progress. The test
// binary's -timeout bounds the run.
const browserStepTimeout = 2 * time.Minute

// browserScreenshotEnv names the directory that receives full-page screenshots of the
// journey. Unset, the test writes no files.
const browserScreenshotEnv = "TWOFOLD_SCREENSHOT_DIR"

// TestBrowserJourney walks issue 2's journey in headless Chromium as a person would:
// sign in, set up the authenticator from the key shown on the page, save the recovery
// code, sign out, sign in with a code, sign out, sign in with the recovery code and save
// the fresh one. The server runs on the fake clock; the test computes each code at the
// fake time and moves to a new TOTP step before each use, so every code is fresh.
func TestBrowserJourney(t *testing.T) {
	chromium := testutil.RequireTool(t, "chromium")
	srv := testserver.New(t, testserver.Options{})
	const username = "ada"
	srv.CreateUser(t, username, username+"@example.com", "user")
	b := browserStart(t, chromium, srv.URL)

	// Password step: MFA is required for everyone and ada has none yet, so the
	// browser lands on the setup page.
	b.open("/login")
	b.wantHeading("Sign in")
	b.screenshot("01-login")
	b.typeInto("username", username)
	b.typeInto("password", testserver.Password)
	b.click(`//button[normalize-space()="Sign in"]`, "/mfa/setup")
	b.wantHeading("Set up your authenticator app")
	b.screenshot("02-setup")

	// The key as text, for manual entry, and the QR code holding the same key.
	keyText := strings.TrimSpace(b.text("#secret"))
	secret := testserver.DecodeSecret(t, keyText)
	src := b.attr(".qr img", "src")
	t.Run("qr_code_holds_the_key_shown_as_text", func(t *testing.T) {
		browserCheckQR(t, src, totp.KeyURI("twofold", username, secret), keyText)
	})

	// Confirm with the code an authenticator app would show for that key.
	b.typeInto("code", srv.Code(secret, 0))
	b.click(`//button[normalize-space()="Confirm"]`, "/recovery-code")
	b.wantHeading("Successful!")
	b.screenshot("03-successful")
	firstCode := strings.TrimSpace(b.text("#recovery-code"))
	if firstCode == "" {
		t.Fatal("the Successful! page shows no recovery code")
	}

	// Continue is refused by the browser until the box is ticked (HTML required).
	if valid := browserEval[bool](b, `document.querySelector('form[action="/recovery-code/ack"]').checkValidity()`); valid {
		t.Fatal("the Continue form is valid without the tick box")
	}
	b.clickStay(`//button[normalize-space()="Continue"]`)
	b.wantPath("/recovery-code")
	b.wantHeading("Successful!")
	b.tick("saved")
	b.click(`//button[normalize-space()="Continue"]`, "/account/security")
	b.wantHeading("Password & Security")
	b.wantText("Active since")
	b.screenshot("04-security")

	// Sign out, then in again with the password and a fresh code.
	b.click(`//button[normalize-space()="Sign out"]`, "/login")
	b.wantText("You are signed out.")
	b.signInWithPassword(username)
	srv.NextStep()
	b.typeInto("code", srv.Code(secret, 0))
	b.click(`//button[normalize-space()="Verify"]`, "/account/security")
	b.wantText("Active since")
	b.click(`//button[normalize-space()="Sign out"]`, "/login")

	// Sign in with the recovery code, typed in lower case without dashes.
	b.signInWithPassword(username)
	b.click(`//a[normalize-space()="Use your recovery code"]`, "/login/recovery")
	b.typeInto("code", strings.ToLower(strings.ReplaceAll(firstCode, "-", "")))
	b.click(`//button[normalize-space()="Sign in"]`, "/recovery-code")
	b.wantHeading("Successful!")
	secondCode := strings.TrimSpace(b.text("#recovery-code"))
	if secondCode == "" || secondCode == firstCode {
		t.Fatalf("after using the recovery code the page shows %q, want a new code (the first was %q)", secondCode, firstCode)
	}
	b.tick("saved")
	b.click(`//button[normalize-space()="Continue"]`, "/account/security")
	b.wantText("Active since")
	b.wantCleanConsole()

	// The first recovery code is dead; the one the page showed last is live.
	api := srv.Client(t)
	api.Login(username, "mfa_required")
	r := api.PostJSON("/api/v1/login/recovery-code", map[string]string{"code": firstCode})
	if r.Status != http.StatusUnauthorized || !bytes.Contains(r.Body, []byte(`"invalid_code"`)) {
		t.Fatalf("old recovery code: %d %s, want 401 invalid_code", r.Status, r.Body)
	}
	r = api.PostJSON("/api/v1/login/recovery-code", map[string]string{"code": secondCode})
	if r.Status != http.StatusOK {
		t.Fatalf("recovery code shown last: %d %s, want 200", r.Status, r.Body)
	}
}

// browserTab is one Chromium tab pointed at a test server.
type browserTab struct {
	t    *testing.T
	ctx  context.Context
	base string
	// lang is the language the tab's pages are in (empty: English), for the texts the
	// helpers look for.
	lang string
	// lostAfter is how long clickResponse waits for the page a click leads to before it
	// asks the page whether the click reached it.
	lostAfter time.Duration
	// devToolsClick is how clickResponse clicks through DevTools (nil: chromedp.Click), for
	// the tests of its fallbacks.
	devToolsClick func(xpath string) chromedp.Action[chromedp.Void]

	mu      sync.Mutex
	console []string // errors and exceptions the pages reported
}

// browserStart launches Chromium with a fresh profile and returns a tab on base. The
// browser stops when the test ends.
func browserStart(t *testing.T, execPath, base string) *browserTab {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var output bytes.Buffer
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(execPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.CombinedOutput(&output),
	)
	t.Cleanup(cancelAlloc)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelTab)
	// The first run starts the browser and binds it to tabCtx: it runs without a step's
	// deadline (its end would stop the browser), under a watch of its own.
	start := time.AfterFunc(browserStepTimeout, cancel)
	defer start.Stop()
	if err := chromedp.Do(tabCtx); err != nil {
		t.Fatalf("start %s: %v\n%s", execPath, err, output.String())
	}
	b := &browserTab{t: t, ctx: tabCtx, base: base, lostAfter: clickLostAfter}
	messages := chromedp.Console(tabCtx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.mu.Lock()
				b.console = append(b.console, m.String()+" ("+m.URL+")")
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// emulateViewport sets the tab's window to width x height and waits until the page is
// laid out at that width and has drawn a frame. Chromium answers the emulation before the
// page has it: a click sent at once is aimed with the old layout (a check box or a button
// where the narrow page had it) and lands on the new one, where nothing may be.
func emulateViewport(width, height int64) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.EmulateViewport(width, height),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`new Promise(done => {
			const settled = () => window.innerWidth === %d && document.documentElement.clientWidth <= %d
				? requestAnimationFrame(() => requestAnimationFrame(() => done()))
				: requestAnimationFrame(settled);
			settled();
		})`, width, width), chromedp.EvalAwaitPromise),
	)
}

// wantCleanConsole fails if a page reported an error or an uncaught exception, such as
// a script or a style that the Content-Security-Policy blocked.
func (b *browserTab) wantCleanConsole() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.console) > 0 {
		b.t.Errorf("the pages reported %d console errors:\n%s", len(b.console), strings.Join(b.console, "\n"))
	}
}

// browserRun runs one step in the tab, within browserStepTimeout.
func browserRun[T any](b *browserTab, a chromedp.Action[T]) (T, error) {
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	return chromedp.Run(ctx, a)
}

// runResponse runs steps that load a page, within browserStepTimeout, and returns the
// page's response.
func (b *browserTab) runResponse(steps ...chromedp.Action[chromedp.Void]) (*network.Response, error) {
	return b.runResponseIn(b.ctx, steps...)
}

// runResponseIn is runResponse under ctx, a context of the tab's that may end sooner.
func (b *browserTab) runResponseIn(ctx context.Context, steps ...chromedp.Action[chromedp.Void]) (*network.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, browserStepTimeout)
	defer cancel()
	return chromedp.RunResponse(ctx, steps...)
}

// do runs steps, each within browserStepTimeout, and fails the test on an error.
func (b *browserTab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	for _, step := range steps {
		if _, err := browserRun(b, step); err != nil {
			b.t.Fatalf("%s: %v (page %s)", what, err, b.location())
		}
	}
}

// browserEval evaluates a JavaScript expression in the page.
func browserEval[T any](b *browserTab, expr string) T {
	b.t.Helper()
	v, err := browserRun(b, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// pageText is the text of the page for a failure message; it never waits or fails.
func (b *browserTab) pageText() string {
	s, err := browserRun(b, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		return "(page text unavailable: " + err.Error() + ")"
	}
	return s
}

// location is the page's URL, or a note when it cannot be read.
func (b *browserTab) location() string {
	loc, err := browserRun(b, chromedp.Location())
	if err != nil {
		return "(unknown: " + err.Error() + ")"
	}
	return loc
}

// open navigates to path on the server.
func (b *browserTab) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path))
	b.wantPath(path)
}

// typeInto types text into the field with id, as keystrokes.
func (b *browserTab) typeInto(id, text string) {
	b.t.Helper()
	b.do("type into #"+id, chromedp.SendKeys(chromedp.ID(id), text))
}

// pageDrawn waits until the page has drawn two frames. A page that has just loaded has not
// always run its first rendering step, and that step is where the browser focuses an
// autofocus field and scrolls it into view: a click aimed before it lands where the
// element was. On the sign-in page, in 2 of 20 loads here, the username field was not yet
// focused right after the load, and its focus then scrolled the page by 255 px; a click on
// "Contact support" aimed before that landed on the page's main element (found by
// TestBrowserSupportReset under the race detector). A person never clicks a page before it
// is drawn, so no test does. A page that draws no frames (a hidden one) is given 2 s.
var pageDrawn = chromedp.Evaluate[chromedp.Void](`new Promise(done => {
	setTimeout(done, 2000);
	requestAnimationFrame(() => requestAnimationFrame(() => done()));
})`, chromedp.EvalAwaitPromise)

// clickOn is chromedp's click on the element sel finds, once the page has drawn.
func clickOn[S chromedp.Selectable](sel S) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(pageDrawn, chromedp.Click(sel))
}

// tick clicks the check box with id and waits until the page has it checked, rather than
// reading the box once right after DevTools has sent the click; it fails when the box is
// still unchecked after browserStepTimeout.
func (b *browserTab) tick(id string) {
	b.t.Helper()
	b.do("tick #"+id, clickOn(chromedp.ID(id)))
	checked := `document.getElementById(` + browserJSString(id) + `).checked`
	if _, err := browserRun(b, chromedp.Poll[bool](checked, chromedp.WithPollingTimeout(0))); err != nil {
		b.t.Fatalf("#%s is not checked after a click: %v (page %s)", id, err, b.location())
	}
}

// actsOnClick selects the elements a click on which may do something: links, controls,
// labels (they click their control), and elements made interactive by a role or a
// focusable tabindex. A click on anything else (text, a heading, a status message) does
// nothing, so clickResponse may click its element after it.
const actsOnClick = `a[href], area[href], button, input, select, textarea, label, summary, [contenteditable],
[role=button], [role=link], [role=checkbox], [role=radio], [role=switch], [role=tab], [role=menuitem], [role=option],
[tabindex]:not([tabindex^="-"])`

// clickLostAfter is a tab's lostAfter: long enough for any click to reach its page on a
// loaded machine.
const clickLostAfter = 20 * time.Second

// clickResponse clicks the element an XPath finds and returns the response of the page
// the click leads to.
//
// DevTools clicks at a point: it scrolls the element into view, reads where it is, and
// sends the mouse there. The click waits until the page has drawn (pageDrawn), and the
// page records every click that reaches it: whether it hit the element, and whether it
// landed on anything else that acts on a click. When no page has come after the tab's
// lostAfter, the click has gone out, and the same page is still there without a click on
// the element or on anything else that acts on one (none arrived, as twice on a loaded
// machine in TestBrowserSupportReset and TestAdminPageStates, or one landed beside it on
// plain text), the page clicks the element itself, in the same evaluation that checked,
// so that nothing can come between; the test's log says so. A click that reached the
// element, or another link, button or field, is never repeated, nor one still waiting
// for its element, so no form is ever sent twice; the wait for the page is the step's,
// from the first click.
//
// Once, in a race-detector run, the DevTools click did not go out at all for the whole
// step though its element was shown (chromedp's search for the element never ended). So
// when the click has not gone out after lostAfter, the element is shown and no click
// reached the page, the DevTools click is stopped, so that it cannot go out later, and
// the page clicks the element itself. A click still waiting for an element that is not
// shown yet keeps waiting.
//
// The page draws before the DevTools click sets out; a click that then waits for its
// element to be shown is aimed at the layout of the moment it is shown. A click whose
// target is not an element counts as one on something that acts on a click.
//
// A click that fails says what the page saw (clickState).
//
// DevTools names an element by a node id of the document it last described; when the page
// replaced the document (or the node) between the search and the click, the click fails
// with "Could not find node with given id" before anything is sent to the page. Such a
// click is tried again, at most twice (seen once on a loaded machine, on the sign-in page).
func (b *browserTab) clickResponse(xpath string) (*network.Response, error) {
	b.t.Helper()
	for try := 1; ; try++ {
		resp, err := b.clickResponseOnce(xpath)
		if err == nil || try == 3 || !strings.Contains(strings.ToLower(err.Error()), "node with given id") {
			return resp, err
		}
		b.t.Logf("click %s: %v; searching again", xpath, err)
	}
}

// clickResponseOnce is one try of clickResponse.
func (b *browserTab) clickResponseOnce(xpath string) (*network.Response, error) {
	b.t.Helper()
	find := xpathNode(xpath)
	watch := `window.twofoldHit = false;
window.twofoldOther = false;
window.twofoldEvents = [];
["mousedown", "mouseup", "click"].forEach(function (type) {
	document.addEventListener(type, function (e) {
		const el = ` + find + `;
		const on = e.target && e.target.nodeType === Node.ELEMENT_NODE ? e.target : null;
		if (type === "click") {
			if (el !== null && el.contains(on)) window.twofoldHit = true;
			else if (on === null || on.closest(` + browserJSString(actsOnClick) + `)) window.twofoldOther = true;
		}
		window.twofoldEvents.push(type + " at " + Math.round(e.clientX) + "," + Math.round(e.clientY) + (e.isTrusted ? "" : " (script)") +
			" on " + (on ? on.outerHTML.slice(0, 60) : String(e.target)) + ", " + Math.round(performance.now()) + " ms");
	}, {capture: true});
});`
	if _, err := browserRun(b, chromedp.Steps(chromedp.Evaluate[chromedp.Void](watch), pageDrawn)); err != nil {
		return nil, err
	}
	type answer struct {
		resp *network.Response
		err  error
	}
	sent := make(chan struct{})
	done := make(chan answer, 1)
	clickCtx, stopClick := context.WithCancel(b.ctx)
	defer stopClick()
	click := chromedp.Click(chromedp.Search(xpath))
	if b.devToolsClick != nil {
		click = b.devToolsClick(xpath)
	}
	go func() {
		resp, err := b.runResponseIn(clickCtx, click,
			chromedp.Func(func(context.Context, *chromedp.Target) error { close(sent); return nil }))
		done <- answer{resp, err}
	}()
	select {
	case a := <-done:
		return a.resp, a.err
	case <-time.After(b.lostAfter):
	}
	// The element, while no click reached it or anything else that acts on a click (else
	// null: another page, or such a click arrived).
	element := `(() => {
	if (window.twofoldHit !== false || window.twofoldOther !== false) return null;
	return ` + find + `;
})()`
	select {
	case <-sent:
		again := `(() => {
	const el = ` + element + `;
	if (el === null) return false;
	el.click();
	return true;
})()`
		state := b.clickState(xpath) // before the page's click, for the log
		clicked, err := browserRun(b, chromedp.Evaluate[bool](again))
		switch {
		case err != nil:
			b.t.Logf("click %s: no page after %s, and the page could not be asked to click: %v", xpath, b.lostAfter, err)
		case clicked:
			b.t.Logf("click %s: no page after %s, and no click reached the element or anything else that acts on one; the page clicked the element (%s)",
				xpath, b.lostAfter, state)
		}
	default:
		shown := `(() => {
	const el = ` + element + `;
	return el !== null && el.getClientRects().length > 0;
})()`
		if ok, err := browserRun(b, chromedp.Evaluate[bool](shown)); err != nil || !ok {
			break // the click waits for its element still
		}
		stopClick()
		if a := <-done; a.err == nil {
			return a.resp, nil // it went through as it was stopped
		}
		select {
		case <-sent:
			return nil, fmt.Errorf("the click went out as it was stopped after %s", b.lostAfter)
		default:
		}
		b.t.Logf("click %s: the click had not gone out after %s, its element shown; the page clicked the element", xpath, b.lostAfter)
		return b.runResponse(chromedp.Evaluate[chromedp.Void](`(() => {
	const el = ` + element + `;
	if (el !== null) el.click();
})()`))
	}
	a := <-done
	if a.err != nil {
		went := "never went out"
		select {
		case <-sent:
			went = "went out"
		default:
		}
		return nil, fmt.Errorf("%w (the DevTools click %s; %s)", a.err, went, b.clickState(xpath))
	}
	return a.resp, nil
}

// xpathNode is a JavaScript expression for the first element xpath finds, or null.
func xpathNode(xpath string) string {
	return `document.evaluate(` + browserJSString(xpath) + `, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue`
}

// clickState describes, for a failed click's message, what the page saw: the events of
// the mouse that reached it, where the element is, which element has the focus.
func (b *browserTab) clickState(xpath string) string {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
	const el = `+xpathNode(xpath)+`;
	const r = el ? el.getBoundingClientRect() : null;
	const a = document.activeElement;
	return JSON.stringify({
		page: location.href, ready: document.readyState, visible: document.visibilityState,
		element: r ? [r.x, r.y, r.width, r.height].map(Math.round) : null,
		scroll: [scrollX, scrollY], viewport: [innerWidth, innerHeight],
		focus: a ? a.outerHTML.slice(0, 60) : null,
		events: window.twofoldEvents || null, now: Math.round(performance.now()),
	});
})()`))
	if err != nil {
		return "page state unavailable: " + err.Error()
	}
	return "page state " + state
}

// click clicks the element an XPath finds (by its visible label), waits for the page it
// leads to, and fails unless that page is wantPath and answered 200.
func (b *browserTab) click(xpath, wantPath string) {
	b.t.Helper()
	resp, err := b.clickResponse(xpath)
	if err != nil {
		b.t.Fatalf("click %s on %s: %v", xpath, b.location(), err)
	}
	if resp == nil || resp.Status != http.StatusOK {
		var status int64
		if resp != nil {
			status = resp.Status
		}
		b.t.Fatalf("click %s: status %d at %s, want 200\n%s", xpath, status, b.location(), b.pageText())
	}
	b.wantPath(wantPath)
}

// clickStay clicks an element that must not navigate, and gives the browser time to
// start a navigation if it wrongly would.
func (b *browserTab) clickStay(xpath string) {
	b.t.Helper()
	b.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.browserTestMark = true`))
	b.do("click "+xpath, clickOn(chromedp.Search(xpath)), chromedp.Sleep(500*time.Millisecond))
	if !browserEval[bool](b, `window.browserTestMark === true`) {
		b.t.Fatalf("click %s left the page for %s", xpath, b.location())
	}
}

// signInWithPassword opens the sign-in page, submits the password and expects the code page.
func (b *browserTab) signInWithPassword(username string) {
	b.t.Helper()
	b.open("/login")
	b.typeInto("username", username)
	b.typeInto("password", testserver.Password)
	b.click(`//button[normalize-space()="`+i18n.T(b.lang, "login.submit")+`"]`, "/login/code")
	b.wantHeading(i18n.T(b.lang, "code.title"))
}

// text returns the visible text of the first element matching a CSS selector.
func (b *browserTab) text(css string) string {
	b.t.Helper()
	s, err := browserRun(b, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		b.t.Fatalf("text of %s on %s: %v", css, b.location(), err)
	}
	return s
}

// attr returns an attribute of the first element matching a CSS selector.
func (b *browserTab) attr(css, name string) string {
	b.t.Helper()
	a, err := browserRun(b, chromedp.AttributeValue(chromedp.CSS(css), name))
	if err != nil || !a.Exists {
		b.t.Fatalf("attribute %s of %s on %s: exists %v, %v", name, css, b.location(), a.Exists, err)
	}
	return a.Value
}

// wantPath fails unless the page's path is want.
func (b *browserTab) wantPath(want string) {
	b.t.Helper()
	loc := b.location()
	u, err := url.Parse(loc)
	if err != nil || u.Path != want {
		b.t.Fatalf("page is %s, want path %s\n%s", loc, want, b.pageText())
	}
}

// wantHeading fails unless the page's h1 is want.
func (b *browserTab) wantHeading(want string) {
	b.t.Helper()
	if got := strings.TrimSpace(b.text("h1")); got != want {
		b.t.Fatalf("heading %q on %s, want %q\n%s", got, b.location(), want, b.pageText())
	}
}

// wantText fails unless the page's main content shows want.
func (b *browserTab) wantText(want string) {
	b.t.Helper()
	if main := b.text("main"); !strings.Contains(main, want) {
		b.t.Fatalf("page %s does not show %q:\n%s", b.location(), want, main)
	}
}

// screenshot saves a full-page PNG as <name>.png in $TWOFOLD_SCREENSHOT_DIR; without
// that variable it does nothing.
func (b *browserTab) screenshot(name string) {
	b.t.Helper()
	dir := os.Getenv(browserScreenshotEnv)
	if dir == "" {
		return
	}
	img, err := browserRun(b, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	path := filepath.Join(dir, "browser-"+name+".png")
	if err := os.WriteFile(path, img, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s", path)
}

// browserCheckQR checks that src is a PNG data URL whose QR code, as zbarimg reads it,
// is wantURI, the key URI of the key shown as text (keyText).
func browserCheckQR(t *testing.T, src, wantURI, keyText string) {
	t.Helper()
	const prefix = "data:image/png;base64,"
	if !strings.HasPrefix(src, prefix) {
		t.Fatalf("QR image src is not a PNG data URL: %.60q", src)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(src, prefix))
	if err != nil {
		t.Fatalf("QR data URL is not base64: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("QR image is not a PNG: %v", err)
	}
	if r := img.Bounds(); r.Dx() < 21 || r.Dy() < 21 {
		t.Fatalf("QR image is %v, too small for a QR code", r)
	}
	if !strings.Contains(wantURI, "secret="+strings.ReplaceAll(keyText, " ", "")+"&") {
		t.Fatalf("key URI %s does not hold the key %s", wantURI, keyText)
	}

	zbarimg := testutil.RequireTool(t, "zbarimg")
	file := filepath.Join(t.TempDir(), "qr.png")
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(zbarimg, "--quiet", "--raw", file).Output()
	if err != nil {
		t.Fatalf("zbarimg %s: %v", file, err)
	}
	if got := strings.TrimSpace(string(out)); got != wantURI {
		t.Fatalf("QR code holds %q, want %q", got, wantURI)
	}
}

// browserJSString quotes s as a JavaScript string literal.
func browserJSString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}
