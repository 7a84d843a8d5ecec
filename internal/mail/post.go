package mail

import (
	"context"

	"github.com/twofold-id/twofold/internal/links"
)

// Post is how a service that writes to people sends its mail: into the queue, in the
// transaction of the event a message tells of, with the product named and the links
// leading to the server's public address. The zero Post drops every message.
type Post struct {
	// Queue is where messages are written; nil drops them.
	Queue *Queue
	// Product names the service in mail (mfa.issuer); empty: twofold.
	Product string
	// BaseURL is how users reach the server (server.public_url), for the links in mail.
	// It never comes from a request's Host header.
	BaseURL string
}

// Link is the address mailed for a single-use link: the page at path under BaseURL,
// with token as its query parameter.
func (p Post) Link(path, token string) string { return links.URL(p.BaseURL, path, token) }

// Send composes the message of kind to to from d and queues it through tx, the
// transaction of its event: the mail exists exactly when the event commits, and the
// request never waits for a mail server. It reports whether a message was queued
// (false without a Queue).
func (p Post) Send(ctx context.Context, tx Enqueuer, kind, to string, d Data) (bool, error) {
	if p.Queue == nil {
		return false, nil
	}
	d.Product = p.Product
	msg, err := Compose(kind, to, d)
	if err != nil {
		return false, err
	}
	return true, p.Queue.Enqueue(ctx, tx, msg)
}
