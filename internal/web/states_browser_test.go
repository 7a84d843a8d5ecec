package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
)

// TestBrowserSetupCopiesTheKeyAndShowsLocalTimes: on the setup page in Chromium, in a
// browser set to India's time (UTC+5:30), the Copy key button puts the key, without the
// spaces between its groups, on the clipboard and says so; the app link holds the key URI;
// and the expiry time is rewritten from UTC to the browser's zone, naming it.
func TestBrowserSetupCopiesTheKeyAndShowsLocalTimes(t *testing.T) {
	chromium := testutil.RequireTool(t, "chromium")
	srv := testserver.New(t, testserver.Options{})
	srv.CreateUser(t, "ada", "ada@example.com", "user")
	b := browserStart(t, chromium, srv.URL)
	b.do("set the time zone", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Kolkata"})
		return err
	}))

	b.open("/login")
	b.typeInto("username", "ada")
	b.typeInto("password", testserver.Password)
	b.click(`//button[normalize-space()="Sign in"]`, "/mfa/setup")
	b.wantHeading("Set up your authenticator app")

	key := strings.ReplaceAll(strings.TrimSpace(b.text("#secret")), " ", "")
	if link := b.attr(`a[href^="otpauth:"]`, "href"); !strings.Contains(link, "secret="+key) {
		t.Errorf("the app link %q does not hold the key %s", link, key)
	}

	t.Run("copy_key", func(t *testing.T) {
		// Headless Chromium has no clipboard to read back: record what the page writes.
		b.do("watch the clipboard", chromedp.Evaluate[chromedp.Void](
			`navigator.clipboard.writeText = function (s) { window.copied = s; return Promise.resolve(); }`))
		if hidden := browserEval[bool](b, `document.querySelector('[data-copy="secret"]').hidden`); hidden {
			t.Fatal("the Copy key button stays hidden with JavaScript on")
		}
		b.clickStay(`//button[normalize-space()="Copy key"]`)
		if got := browserEval[string](b, `window.copied || ""`); got != key {
			t.Fatalf("copied %q, want the key %s without spaces", got, key)
		}
		if status := strings.TrimSpace(b.text("[data-copy-status]")); status != "Copied to the clipboard." {
			t.Fatalf("status %q after copying", status)
		}
	})

	t.Run("local_time", func(t *testing.T) {
		when, err := time.Parse(time.RFC3339, b.attr("time[datetime]", "datetime"))
		if err != nil {
			t.Fatal(err)
		}
		shown := strings.TrimSpace(b.text("time[datetime]"))
		local := when.In(time.FixedZone("IST", 5*3600+1800))
		if strings.HasSuffix(shown, "UTC") || !strings.Contains(shown, "GMT+5:30") ||
			!strings.Contains(shown, fmt.Sprintf(":%02d", local.Minute())) {
			t.Fatalf("the time shows %q, want %s in the browser's zone, named", shown, local.Format("15:04 MST"))
		}
		if title := b.attr("time[datetime]", "title"); !strings.Contains(title, "UTC") ||
			!strings.Contains(title, "Asia/Kolkata") && !strings.Contains(title, "Asia/Calcutta") { // ICU's older name
			t.Fatalf("the time's title %q, want the UTC time and the zone's name", title)
		}
	})
	b.wantCleanConsole()
}
