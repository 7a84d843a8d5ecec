// Package testutil holds test helpers shared across packages, such as skipping tests whose external dependency (a binary, a database, a browser) is missing.
package testutil
