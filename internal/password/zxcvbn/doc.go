// Package zxcvbn estimates how many guesses a password takes (zxcvbn's score).
//
// It is github.com/trustelem/zxcvbn v1.0.1 (MIT licence, LICENSE.txt), a Go port of
// Dropbox's zxcvbn, with one change: the word lists and the ranked dictionaries built from
// them are made at the first estimate instead of at start-up (frequency.Lists,
// matching's defaultRankedDictionnaries), so that a server that does not check a new
// password does not hold them. The attack time estimates it does not use are left out.
package zxcvbn
