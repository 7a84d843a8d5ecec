// Package links issues, shows and redeems the single-use links twofold sends by mail
// (password reset, invitation, address verification, registration).
//
// The pattern every flow follows:
//
//   - Issue a link in the transaction that records the event the mail belongs to; mail
//     the URL that URL builds (<public_url>/PATH?token=T). Only the SHA-256 of the token
//     is stored.
//   - The link's GET shows a page with a button and calls Peek, which changes nothing:
//     mail scanners and link previews fetch links, and must not use them up.
//   - The button POSTs the token; the handler calls Consume inside the transaction that
//     does the work, after every check that may fail, so a refused attempt (a wrong code,
//     a weak password) never burns the link, and a rollback makes it live again.
//
// Every failure to find a live link is ErrInvalid, whatever the reason (unknown, used,
// replaced, expired, another purpose), so an answer never tells which.
package links
