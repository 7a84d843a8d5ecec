// Package ratelimit limits how often one key (a client IP, an e-mail address) may act, with token buckets the garbage collector never has to walk.
package ratelimit
