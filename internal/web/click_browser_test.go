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
	u, err := url.Parse(b.location())
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Query().Get("clicks"); got != "1" {
		t.Errorf("the link was clicked %s times, want 1", got)
	}
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
	b.devToolsClick = func(string) chromedp.Action[chromedp.Void] {
		return clickOn(chromedp.Search(`//h1`))
	}
	b.do("count the link's clicks", chromedp.Evaluate[chromedp.Void](`window.clicks = 0;
	`+xpathNode(contactSupport)+`.addEventListener("click", function (e) {
		e.preventDefault();
		window.clicks++;
		location.href = "/support?clicks=" + window.clicks;
	})`))
	b.click(contactSupport, "/support")
	wantClickedOnce(t, b)
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
