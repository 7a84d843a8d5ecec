package web

import "net/http"

// fixedHeader is a header and the value every answer that carries it sends. An answer's
// header map holds its one value slice instead of a fresh one per answer, which is what
// Header.Set allocates. Sharing it is safe because nothing changes a header's values in
// place: net/http and this package replace them (Set, Del) or append to them (Add), and
// an append to this full slice (length and capacity 1) copies it first.
type fixedHeader struct {
	key   string
	value []string
}

// fixed is the header key (made canonical, as Header.Set makes it) with value.
func fixed(key, value string) fixedHeader {
	return fixedHeader{key: http.CanonicalHeaderKey(key), value: []string{value}}
}

// set does what h.Set(key, value) does.
func (f fixedHeader) set(h http.Header) { h[f.key] = f.value }

var (
	contentJSON    = fixed("Content-Type", "application/json")
	contentProblem = fixed("Content-Type", "application/problem+json")
	contentHTML    = fixed("Content-Type", "text/html; charset=utf-8")
	noStore        = fixed("Cache-Control", "no-store")
)
