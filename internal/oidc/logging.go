package oidc

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"slices"
	"sync"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// The op package logs through slog's default logger, with the context of the request it
// serves (op.WithLogger has no effect any more). So that its lines reach the provider's
// logger, in the server's format and level, the provider installs logRouter as the
// default handler once per process, and marks the contexts it serves with its logger.

type loggerKey struct{}

// withLogger marks ctx as served by a provider that logs to l.
func withLogger(ctx context.Context, l *slog.Logger) context.Context {
	if cur, _ := ctx.Value(loggerKey{}).(*slog.Logger); cur == l {
		return ctx
	}
	return context.WithValue(ctx, loggerKey{}, l)
}

var (
	installRouter  sync.Once
	routerFallback slog.Handler
)

// routeLibraryLogs makes the default logger hand records logged with a provider's context
// to that provider's logger; every other record goes where it went before, which it
// returns.
func routeLibraryLogs() slog.Handler {
	installRouter.Do(func() {
		fallback := slog.Default().Handler()
		if fmt.Sprintf("%T", fallback) == "*slog.defaultHandler" {
			// slog's built-in handler writes through the log package, which SetDefault
			// points back at the new default handler: keep its destination, not the loop.
			fallback = slog.NewTextHandler(log.Writer(), nil)
		}
		routerFallback = fallback
		slog.SetDefault(slog.New(&logRouter{fallback: fallback}))
	})
	return routerFallback
}

// logRouter is a slog.Handler that picks the handler by the record's context.
type logRouter struct {
	fallback slog.Handler
	// with are the WithAttrs and WithGroup calls made on this handler, in order, to be
	// applied to the handler picked for a record.
	with []func(slog.Handler) slog.Handler
}

func (h *logRouter) target(ctx context.Context) slog.Handler {
	t := h.fallback
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok && l != nil {
		if _, loop := l.Handler().(*logRouter); !loop {
			t = l.Handler()
		}
	}
	for _, f := range h.with {
		t = f(t)
	}
	return t
}

// Enabled is true when the record might be logged; Handle decides with the final level.
func (h *logRouter) Enabled(ctx context.Context, level slog.Level) bool {
	t := h.target(ctx)
	return t.Enabled(ctx, level) || (level > slog.LevelInfo && t.Enabled(ctx, slog.LevelInfo))
}

func (h *logRouter) Handle(ctx context.Context, r slog.Record) error {
	t := h.target(ctx)
	if lvl, ok := outcomeLevel(r); ok {
		r.Level = lvl
	}
	if !t.Enabled(ctx, r.Level) {
		return nil
	}
	return t.Handle(ctx, r)
}

func (h *logRouter) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logRouter{fallback: h.fallback, with: append(slices.Clip(h.with), func(t slog.Handler) slog.Handler { return t.WithAttrs(attrs) })}
}

func (h *logRouter) WithGroup(name string) slog.Handler {
	return &logRouter{fallback: h.fallback, with: append(slices.Clip(h.with), func(t slog.Handler) slog.Handler { return t.WithGroup(name) })}
}

// userOutcomes are the OAuth errors that report what a user did or has to do, not a
// fault: the op package logs every error as a warning.
var userOutcomes = []string{"access_denied", "login_required", "interaction_required", "consent_required",
	"account_selection_required"}

// outcomeLevel returns Info for a record of the op package about a user outcome.
func outcomeLevel(r slog.Record) (slog.Level, bool) {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		if a.Key != "oidc_error" {
			return true
		}
		if e, ok := a.Value.Any().(*oidc.Error); ok && slices.Contains(userOutcomes, string(e.ErrorType)) {
			found = true
		}
		return false
	})
	if found && r.Level > slog.LevelInfo {
		return slog.LevelInfo, true
	}
	return r.Level, false
}
