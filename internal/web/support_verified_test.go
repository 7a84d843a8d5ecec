package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/web"
)

// TestSupportConfirmedLinkVerifiesTheAddress: confirming the support desk's e-mail link
// proves that the user owns the address, so the account's address becomes verified; a link
// that was only opened (as a mail scanner does) proves nothing.
func TestSupportConfirmedLinkVerifiesTheAddress(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	ada, _ := supEnrolled(t, srv, "ada", "user")
	sam, _ := supEnrolled(t, srv, "sam", "support")
	ref := supOpen(t, srv, "ada@example.com")
	supWant(t, sam.PostJSON("/api/v1/support/cases/"+ref+"/verify-email", map[string]string{}), http.StatusAccepted)
	link, err := url.Parse(srv.LastMailTo(t, "ada@example.com").Link("/support/verify?token="))
	if err != nil {
		t.Fatal(err)
	}
	verified := func() bool {
		t.Helper()
		r := ada.Get("/api/v1/session")
		supWant(t, r, http.StatusOK)
		return decode[web.SessionAnswer](t, r).User.EmailVerified
	}

	supWant(t, srv.Client(t).Get(link.RequestURI()), http.StatusOK)
	if verified() {
		t.Fatal("opening the link verified the address")
	}
	r := srv.Client(t).Do(http.MethodPost, "/support/verify", "application/x-www-form-urlencoded",
		[]byte(url.Values{"token": {link.Query().Get("token")}}.Encode()))
	supWant(t, r, http.StatusSeeOther)
	if !verified() {
		t.Error("the address is not verified after the user confirmed the support link")
	}
	if u, _ := srv.Store.GetUserByUsername(t.Context(), "sam"); u.EmailVerified {
		t.Error("the agent's address became verified too")
	}
}
