// Package ratelimit limits how often one key (a client IP, an e-mail address) may act, with token buckets from golang.org/x/time/rate.
package ratelimit
