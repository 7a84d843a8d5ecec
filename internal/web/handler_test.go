package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/i18n"
)

func bareServer(t *testing.T) *Server {
	t.Helper()
	p, err := loadPages()
	if err != nil {
		t.Fatal(err)
	}
	return &Server{log: slog.New(slog.NewTextHandler(io.Discard, nil)), pages: p}
}

// TestError checks the one writer of errors: where it answers with a problem document,
// the error page or the form, and that status, message and Retry-After follow the error.
func TestError(t *testing.T) {
	s := bareServer(t)
	throttled := &apperr.Error{Code: apperr.CodeThrottled, Message: "Wait a little.", RetryAfter: 1500 * time.Millisecond}
	answer := func(path string, err error) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		s.Error(w, httptest.NewRequest(http.MethodPost, path, nil), err)
		return w
	}

	t.Run("api_gets_a_problem", func(t *testing.T) {
		w := answer("/api/v1/login", throttled)
		if w.Code != http.StatusTooManyRequests || w.Header().Get("Content-Type") != "application/problem+json" ||
			w.Header().Get("Retry-After") != "2" || !strings.Contains(w.Body.String(), `"code":"throttled"`) {
			t.Fatalf("%d %v %s", w.Code, w.Header(), w.Body)
		}
	})
	t.Run("page_gets_the_error_page", func(t *testing.T) {
		w := answer("/login", throttled)
		if w.Code != http.StatusTooManyRequests || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") ||
			w.Header().Get("Retry-After") != "2" || !strings.Contains(w.Body.String(), "Wait a little.") {
			t.Fatalf("%d %v %s", w.Code, w.Header(), w.Body)
		}
	})
	t.Run("internal_errors_say_nothing", func(t *testing.T) {
		w := answer("/api/v1/session", errors.New("secret detail"))
		if w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), "secret detail") {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	})
	t.Run("form_error_draws_the_form", func(t *testing.T) {
		var gotStatus int
		var gotMsg string
		w := answer("/login", onForm(throttled, func(status int, msg formProblem) error {
			gotStatus, gotMsg = status, msg.Message
			return nil
		}))
		if gotStatus != http.StatusTooManyRequests || gotMsg != "Wait a little." || w.Header().Get("Retry-After") != "2" || w.Body.Len() != 0 {
			t.Fatalf("form drawn with %d %q; answer %v %s", gotStatus, gotMsg, w.Header(), w.Body)
		}
	})
	t.Run("form_that_cannot_be_drawn_gets_the_error_page", func(t *testing.T) {
		w := answer("/account/security", onForm(throttled, func(int, formProblem) error { return apperr.ErrUnavailable }))
		if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "5" {
			t.Fatalf("%d %v %s", w.Code, w.Header(), w.Body)
		}
	})
	t.Run("nil_stays_nil", func(t *testing.T) {
		if err := onForm(nil, func(int, formProblem) error { return nil }); err != nil {
			t.Fatal(err)
		}
	})
}

// TestReadyzAnswersJSON: the health checks are read by machines; a failed one is a problem
// document like the API's, not the error page.
func TestReadyzAnswersJSON(t *testing.T) {
	s, err := New(Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Ready: func(context.Context) error { return errors.New("database down") }})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Content-Type") != "application/problem+json" ||
		w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), `"code":"unavailable"`) {
		t.Fatalf("%d %v %s", w.Code, w.Header(), w.Body)
	}
}

// TestPagesOfOtherLanguagesParsedOnFirstUse: the server starts with the default language's
// pages (every page parsed once, which proves they all parse) and parses another
// language's pages when one is first shown in it, once; the layout is parsed once per
// language, beside the pages.
func TestPagesOfOtherLanguagesParsedOnFirstUse(t *testing.T) {
	p, err := loadPages()
	if err != nil {
		t.Fatal(err)
	}
	en := p.byLang[i18n.Default]
	if len(p.byLang) != 1 || en == nil || len(p.names) < 40 {
		t.Fatalf("at start: %d languages, %d pages", len(p.byLang), len(p.names))
	}
	for name := range p.names {
		if en.Lookup(name) == nil {
			t.Errorf("the default language's set lacks the page %s", name)
		}
	}
	de, ok, err := p.page("de", "error")
	if !ok || err != nil {
		t.Fatalf("the error page in German: ok=%v err=%v", ok, err)
	}
	if again, _, _ := p.page("de", "security"); again != de {
		t.Error("the German pages were parsed twice")
	}
	if len(p.byLang) != 2 {
		t.Errorf("languages parsed: %d, want the default and German", len(p.byLang))
	}
	s := &Server{log: slog.New(slog.NewTextHandler(io.Discard, nil)), pages: p}
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Accept-Language", "de")
	s.render(w, r, http.StatusNotFound, "error", view{Title: "x"})
	body := w.Body.String()
	if de, en := i18n.T("de", "error.back"), i18n.T("en", "error.back"); !strings.Contains(body, de) || strings.Contains(body, en) {
		t.Errorf("the German error page does not say %q, or says %q", de, en)
	}
	if main := strings.Index(body, "<main"); main < 0 || strings.Index(body, i18n.T("de", "error.back")) < main ||
		strings.Contains(body, "&lt;") || !strings.Contains(body, `lang="de"`) {
		t.Errorf("the page's content is not inside the layout's <main>, unescaped once:\n%s", body)
	}
	if _, ok, _ := p.page("de", "no-such-page"); ok {
		t.Error("an unknown page was found")
	}
}
