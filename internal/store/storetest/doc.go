// Package storetest is the conformance suite every store.Store implementation must pass.
package storetest
