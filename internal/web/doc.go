// Package web serves twofold over HTTP: the HTML pages, the JSON API under /api/v1, and the middleware around both.
package web
