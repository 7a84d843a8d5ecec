// Package apitoken issues, checks and revokes the scoped API tokens that automate the admin API.
package apitoken
