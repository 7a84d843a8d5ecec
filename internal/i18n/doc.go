// Package i18n owns the languages of the pages and mails: the message catalog, the
// languages it supports, and the choice of one for a request.
package i18n
