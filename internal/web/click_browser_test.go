package web_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
)

// contactSupport is the sign-in page's link to the support form.
const contactSupport = `//a[normalize-space()="Contact support"]`

// signInPageTab opens the sign-in page in a browser whose clicks count as lost after a
// second.
func signInPageTab(t *testing.T) *browserTab {
	t.Helper()
	chromium := testutil.RequireTool(t, "chromium")
	srv := testserver.New(t, testserver.Options{})
	b := browserStart(t, chromium, srv.URL)
	b.lostAfter = time.Second
	b.open("/login")
	return b
}

// wantClickedOnce fails unless the page the link led to counted one click (?clicks=1).
func wantClickedOnce(t *testing.T, b *browserTab) {
	t.Helper()
	if got := pageQuery(t, b, "clicks"); got != "1" {
		t.Errorf("the link was clicked %s times, want 1", got)
	}
}

// pageQuery is the query parameter name of the page's address.
func pageQuery(t *testing.T, b *browserTab, name string) string {
	t.Helper()
	u, err := url.Parse(b.location())
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get(name)
}

// TestBrowserClickThatNeverArrivedIsSentAgain: a click the page never received (here
// swallowed before any listener of the document sees it, as a click DevTools sent to a
// point where the page had nothing was) is sent once more, and the test goes on.
func TestBrowserClickThatNeverArrivedIsSentAgain(t *testing.T) {
	b := signInPageTab(t)
	b.do("swallow the next click", chromedp.Evaluate[chromedp.Void](`window.addEventListener("click", function (e) {
		e.stopImmediatePropagation();
		e.preventDefault();
	}, {capture: true, once: true})`))
	b.click(contactSupport, "/support")
}

// TestBrowserClickBesideTheElementIsSentAgain: a click that landed beside its element,
// on plain text (here the heading, as a click aimed before the page had focused its
// autofocus field and scrolled did), is made once more on the element.
func TestBrowserClickBesideTheElementIsSentAgain(t *testing.T) {
	b := signInPageTab(t)
	b.lostAfter = 5 * time.Second // time for the heading's click to go out on a loaded machine
	b.devToolsClick = func(string) chromedp.Action[chromedp.Void] {
		return clickOn(chromedp.Search(`//h1`))
	}
	b.do("count the heading's and the link's clicks", chromedp.Evaluate[chromedp.Void](`window.clicks = 0;
	window.headingClicks = 0;
	document.querySelector("h1").addEventListener("click", function (e) {
		if (e.isTrusted) window.headingClicks++;
	});
	`+xpathNode(contactSupport)+`.addEventListener("click", function (e) {
		e.preventDefault();
		window.clicks++;
		location.href = "/support?clicks=" + window.clicks + "&heading=" + window.headingClicks;
	})`))
	b.click(contactSupport, "/support")
	wantClickedOnce(t, b)
	if got := pageQuery(t, b, "heading"); got != "1" {
		t.Errorf("the heading had %s clicks from DevTools, want 1: the test did not take the path it is about", got)
	}
}

// TestBrowserClickOnAnotherControlIsNeverRepeated: a click that landed on something else
// that acts on a click (here the username field) is not followed by one on the element:
// the step waits for its page and fails.
func TestBrowserClickOnAnotherControlIsNeverRepeated(t *testing.T) {
	b := signInPageTab(t)
	b.devToolsClick = func(string) chromedp.Action[chromedp.Void] {
		return clickOn(chromedp.ID("username"))
	}
	b.do("count the field's and the link's clicks", chromedp.Evaluate[chromedp.Void](`window.clicks = 0;
	window.fieldClicks = 0;
	document.getElementById("username").addEventListener("click", function (e) {
		if (e.isTrusted) window.fieldClicks++;
	});
	`+xpathNode(contactSupport)+`.addEventListener("click", function () { window.clicks++; })`))
	tab := b.ctx
	ctx, cancel := context.WithTimeout(tab, b.lostAfter+5*time.Second)
	defer cancel()
	b.ctx = ctx
	_, err := b.clickResponse(contactSupport)
	b.ctx = tab
	if err == nil {
		t.Fatal("the click led to a page")
	}
	if got := browserEval[[]int](b, `[window.fieldClicks, window.clicks]`); got[0] != 1 || got[1] != 0 {
		t.Errorf("the field had %d clicks and the link %d, want 1 and 0", got[0], got[1])
	}
}

// TestBrowserClickThatArrivedIsNeverRepeated: a click the element received is not sent
// again, however long its page takes.
func TestBrowserClickThatArrivedIsNeverRepeated(t *testing.T) {
	b := signInPageTab(t)
	b.do("delay the link's page", chromedp.Evaluate[chromedp.Void](`window.clicks = 0;
	`+xpathNode(contactSupport)+`.addEventListener("click", function (e) {
			e.preventDefault();
			window.clicks++;
			setTimeout(function () { location.href = "/support?clicks=" + window.clicks; }, 3000);
		})`))
	b.click(contactSupport, "/support")
	wantClickedOnce(t, b)
}

// TestBrowserClickWaitingForItsElementIsNotRepeated: a click that has not gone out yet,
// because its element is not shown yet, is not sent a second time once it is.
func TestBrowserClickWaitingForItsElementIsNotRepeated(t *testing.T) {
	b := signInPageTab(t)
	b.do("hide the link for 3 s, and count its clicks", chromedp.Evaluate[chromedp.Void](`window.clicks = 0;
	(function () {
		const a = `+xpathNode(contactSupport)+`;
		a.style.display = "none";
		setTimeout(function () { a.style.display = ""; }, 3000);
		a.addEventListener("click", function (e) {
			e.preventDefault();
			window.clicks++;
			setTimeout(function () { location.href = "/support?clicks=" + window.clicks; }, 1000);
		});
	})()`))
	b.click(contactSupport, "/support")
	wantClickedOnce(t, b)
}

// TestBrowserClickThatNeverWentOutIsMadeByThePage: a DevTools click that does not go out
// at all while its element is shown (here one that waits for ever, as chromedp's search
// once did) is stopped, and the page clicks the element, once.
func TestBrowserClickThatNeverWentOutIsMadeByThePage(t *testing.T) {
	b := signInPageTab(t)
	stopped := make(chan struct{})
	b.devToolsClick = func(string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, _ *chromedp.Target) (chromedp.Void, error) {
			<-ctx.Done()
			close(stopped)
			return chromedp.Void{}, ctx.Err()
		}
	}
	b.do("count the link's clicks", chromedp.Evaluate[chromedp.Void](`window.clicks = 0;
	`+xpathNode(contactSupport)+`.addEventListener("click", function (e) {
			e.preventDefault();
			window.clicks++;
			location.href = "/support?clicks=" + window.clicks;
		})`))
	b.click(contactSupport, "/support")
	wantClickedOnce(t, b)
	select {
	case <-stopped:
	default:
		t.Error("the DevTools click was not stopped")
	}
}
