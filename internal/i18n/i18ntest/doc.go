// Package i18ntest finds the text of templates that does not come from the message
// catalog, and the catalog keys templates use, for the tests of the packages that own
// templates.
package i18ntest
