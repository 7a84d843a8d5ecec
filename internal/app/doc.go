// Package app wires one twofold process from its configuration: store, master key, mail, the auth, support and OIDC services, and the HTTP server.
package app
