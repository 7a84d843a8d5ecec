package web

import (
	"fmt"
	"net/http"

	"github.com/twofold-id/twofold/internal/contrast"
)

// Brand is how the pages present the product (config ui.*).
type Brand struct {
	// Name replaces "twofold" in the header and the titles; empty keeps it.
	Name string
	// Logo is an image shown beside the name, of type LogoType; nil shows the name alone.
	Logo     []byte
	LogoType string
	// Accent (#rrggbb, checked for contrast by the configuration) colours buttons and focus
	// rings; empty keeps the built-in colours.
	Accent string
}

// brandView is what the layout gets of the brand.
type brandView struct {
	Name         string
	Logo, Accent bool
}

func (s *Server) brandRoutes(rt *router) {
	rt.handle("GET /brand.css", public, s.brandCSS)
	rt.handle("GET /brand/logo", public, s.brandLogo)
}

// brandCSS serves the accent colour as a style sheet, so the Content-Security-Policy
// needs no inline style. The text on the accent is black or white, whichever contrasts
// more.
func (s *Server) brandCSS(w http.ResponseWriter, r *http.Request) error {
	if s.brand.Accent == "" {
		return errNoPage
	}
	on := "#ffffff"
	white, _ := contrast.Ratio(s.brand.Accent, "#ffffff")
	black, _ := contrast.Ratio(s.brand.Accent, "#000000")
	if black > white {
		on = "#000000"
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	fmt.Fprintf(w, ":root { --brand: %s; --on-brand: %s; }\n", s.brand.Accent, on)
	return nil
}

// brandLogo serves the logo file read at start.
func (s *Server) brandLogo(w http.ResponseWriter, r *http.Request) error {
	if s.brand.Logo == nil {
		return errNoPage
	}
	w.Header().Set("Content-Type", s.brand.LogoType)
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, err := w.Write(s.brand.Logo)
	return err
}
