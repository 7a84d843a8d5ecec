package i18n

import "context"

type ctxKey struct{}

// WithLang returns ctx carrying the language lang.
func WithLang(ctx context.Context, lang string) context.Context {
	return context.WithValue(ctx, ctxKey{}, lang)
}

// FromContext returns the language ctx carries, Default when none.
func FromContext(ctx context.Context) string {
	if l, ok := ctx.Value(ctxKey{}).(string); ok && Supported(l) {
		return l
	}
	return Default
}
