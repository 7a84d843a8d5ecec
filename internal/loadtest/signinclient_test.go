package loadtest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestSignInConn: the sign-in client sends the JSON body and the cookies it was given,
// keeps the ones the answers set (a Max-Age < 0 removes one), and dials again when the
// server closes the connection.
func TestSignInConn(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type")+" "+string(body)+" cookie="+r.Header.Get("Cookie"))
		switch r.URL.Path {
		case "/first":
			http.SetCookie(w, &http.Cookie{Name: "s", Value: "one"})
			http.SetCookie(w, &http.Cookie{Name: "gone", Value: "x"})
		case "/second":
			http.SetCookie(w, &http.Cookie{Name: "s", Value: "two"})
			http.SetCookie(w, &http.Cookie{Name: "gone", MaxAge: -1})
			w.Header().Set("Connection", "close")
		case "/busy":
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	h, err := newSignInConn(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer h.close()
	var jar cookies
	for _, path := range []string{"/first", "/second", "/third"} {
		if st, _, err := h.post(path, []byte(`{"a":1}`), &jar, ""); err != nil || st != http.StatusOK {
			t.Fatalf("%s: %d %v", path, st, err)
		}
	}
	st, retry, err := h.post("/busy", nil, &jar, "")
	if err != nil || st != http.StatusServiceUnavailable || retry.Seconds() != 2 {
		t.Fatalf("/busy: %d, retry %s, %v", st, retry, err)
	}
	want := []string{
		`POST /first application/json {"a":1} cookie=`,
		`POST /second application/json {"a":1} cookie=s=one; gone=x`,
		`POST /third application/json {"a":1} cookie=s=two`,
		`POST /busy application/json  cookie=s=two`,
	}
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Fatalf("the server saw\n%q\nwant\n%q", got, want)
		}
	}
}
