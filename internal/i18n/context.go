package i18n

import "context"

// LangKey is the context key of the language, a string. WithLang stores one; a Context of
// its own may answer the key too (the web server's per-request state does, choosing the
// language only when it is asked for).
type LangKey struct{}

// WithLang returns ctx carrying the language lang.
func WithLang(ctx context.Context, lang string) context.Context {
	return context.WithValue(ctx, LangKey{}, lang)
}

// FromContext returns the language ctx carries, Default when none.
func FromContext(ctx context.Context) string {
	if l, ok := ctx.Value(LangKey{}).(string); ok && Supported(l) {
		return l
	}
	return Default
}
