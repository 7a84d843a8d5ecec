// Package admin is what an administrator does to other people's accounts from the console
// and the admin API: find users, look at one, and change them, each action audited with
// who did it. It knows nothing of HTTP.
package admin
