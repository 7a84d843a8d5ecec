package web

import (
	_ "embed"
	"net/http"
)

// openAPI is the OpenAPI 3.1 description of the JSON API under /api/v1. It is written by
// hand: the routes are plain ServeMux patterns and their handlers decode and encode by
// hand, so there is nothing to generate the paths from that would say more than the
// document does. TestOpenAPIDescribesEveryRoute keeps it in step with the router (every
// /api/v1 route described, nothing described that is not served, each with its access
// level), and TestOpenAPISchemasMatchTheGoTypes keeps the schemas of the answers equal to
// the Go types they are encoded from (go test -run TestOpenAPI -update rewrites them).
//
//go:embed openapi.json
var openAPI []byte

// openAPIDoc serves the description.
func (s *Server) openAPIDoc(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, err := w.Write(openAPI)
	return err
}
