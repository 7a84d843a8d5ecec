// Package logging builds twofold's logger and carries the request id of a request to
// every line logged with its context.
package logging
