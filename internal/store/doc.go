// Package store declares the storage contract every backend implements, with its sentinel errors.
package store
