package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"
	"unicode/utf8"

	"github.com/twofold-id/twofold/internal/i18n"
)

//go:embed templates
var templateFiles embed.FS

// Message kinds: each has templates/<kind>.txt (subject and plain-text body) and
// templates/<kind>.html (the HTML body).
const (
	KindCaseReceived      = "case_received"      // to whoever opened a support case: its reference
	KindEmailVerification = "email_verification" // to an account's address: the proof-of-ownership link
	KindMFAReset          = "mfa_reset"          // to an account's address: a support agent reset MFA
	KindTOTPEnrolled      = "totp_enrolled"
	KindTOTPReplaced      = "totp_replaced"
	KindRecoveryCodeUsed  = "recovery_code_used"
	KindPasswordChanged   = "password_changed"
	// KindRegistrationLink goes to the address a registration gave: the link that creates
	// the account. It holds no text the requester typed.
	KindRegistrationLink = "registration_link"
	// KindRegistrationAttempt goes to the account that already uses an address someone
	// tried to register with, instead of a link.
	KindRegistrationAttempt = "registration_attempt"
	// KindInvitation goes to a new account's address: the link that sets its password.
	KindInvitation        = "invitation"
	KindPasswordResetLink = "password_reset_link" // the single-use link to choose a new password
	KindPasswordReset     = "password_reset"      // a reset link set a new password
	KindPasswordSet       = "password_set"        // an administrator set a new password
	KindAddressVerify     = "address_verify"      // to an account's address: the link that verifies it
	KindAddressChange     = "address_change"      // to a new address: the link that makes it the account's
	KindAddressTaken      = "address_taken"       // to an address asked for by another account: nothing changed
	KindAddressChanged    = "address_changed"     // to the old address: the account's address changed
	KindWebAuthnAdded     = "webauthn_added"      // a security key or passkey was added to the account
	KindWebAuthnRemoved   = "webauthn_removed"    // a security key or passkey was removed
)

// Kinds lists every message kind.
var Kinds = []string{KindCaseReceived, KindEmailVerification, KindMFAReset, KindTOTPEnrolled,
	KindTOTPReplaced, KindRecoveryCodeUsed, KindPasswordChanged, KindRegistrationLink, KindRegistrationAttempt,
	KindInvitation, KindPasswordResetLink, KindPasswordReset, KindPasswordSet, KindAddressVerify, KindAddressChange,
	KindAddressTaken, KindAddressChanged, KindWebAuthnAdded, KindWebAuthnRemoved}

// Data fills the templates. Each kind uses the fields it needs; case_received uses no
// name (whoever opens a case chooses it).
type Data struct {
	Product   string // the service's name; default "twofold"
	Name      string // how to greet the recipient
	Reference string // support case reference
	Link      string // one-time link
	NewEmail  string // the address an account changes to
	ExpiresAt time.Time
	At        time.Time // when the change happened
	IP        string
	UserAgent string
	// Lang is the language the message is written in (a tag of i18n.Languages); empty or
	// unsupported is English. A mail to a user takes the user's language.
	Lang string
}

type kindTemplates struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// funcs are the templates' functions in lang: t is the message key filled in with the
// data (names as in Data; At and Expires are the dates formatted for lang), wrap breaks a
// paragraph of the plain text into lines, lang is the language's tag.
func funcs(lang string) map[string]any {
	date := func(t time.Time) string { return t.UTC().Format(i18n.T(lang, "date.layout")) }
	return map[string]any{
		"t": func(key string, d Data) string {
			return i18n.T(lang, key, "Product", d.Product, "Name", d.Name, "Reference", d.Reference, "Link", d.Link,
				"NewEmail", d.NewEmail, "At", date(d.At), "Expires", date(d.ExpiresAt), "IP", d.IP, "UserAgent", d.UserAgent)
		},
		"wrap": wrap,
		"lang": func() string { return lang },
	}
}

// wrapWidth is the width of the plain text's lines; a longer word (a link) keeps a line
// of its own.
const wrapWidth = 78

// wrap breaks s into lines of at most wrapWidth characters between words. A list item
// ("- ...") goes on indented under its text.
func wrap(s string) string {
	indent := ""
	if strings.HasPrefix(s, "- ") {
		indent = "  "
	}
	var b strings.Builder
	n := 0
	// Split at ASCII white space only: a no-break space (French "code :") holds.
	words := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\n' || r == '\t' })
	for i, w := range words {
		l := utf8.RuneCountInString(w)
		switch {
		case i == 0:
		case n+1+l > wrapWidth:
			b.WriteString("\n" + indent)
			n = len(indent)
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += l
	}
	return b.String()
}

var parsed = sync.OnceValues(func() (map[string]map[string]kindTemplates, error) {
	out := map[string]map[string]kindTemplates{}
	for _, l := range i18n.Languages {
		out[l.Tag] = map[string]kindTemplates{}
		for _, k := range Kinds {
			t, err := texttemplate.New(k).Funcs(funcs(l.Tag)).ParseFS(templateFiles, "templates/footer.txt", "templates/"+k+".txt")
			if err != nil {
				return nil, fmt.Errorf("mail template %s.txt: %w", k, err)
			}
			h, err := htmltemplate.New(k).Funcs(funcs(l.Tag)).ParseFS(templateFiles, "templates/layout.html", "templates/"+k+".html")
			if err != nil {
				return nil, fmt.Errorf("mail template %s.html: %w", k, err)
			}
			out[l.Tag][k] = kindTemplates{text: t, html: h}
		}
	}
	return out, nil
})

// Compose renders the message of kind for to.
func Compose(kind, to string, d Data) (*Message, error) {
	all, err := parsed()
	if err != nil {
		return nil, err
	}
	lang := d.Lang
	if !i18n.Supported(lang) {
		lang = i18n.Default
	}
	t, ok := all[lang][kind]
	if !ok {
		return nil, fmt.Errorf("mail: unknown message kind %q", kind)
	}
	if d.Product == "" {
		d.Product = "twofold"
	}
	var subject, text, html bytes.Buffer
	if err := t.text.ExecuteTemplate(&subject, "subject", d); err != nil {
		return nil, fmt.Errorf("mail: %s subject: %w", kind, err)
	}
	if err := t.text.ExecuteTemplate(&text, "body", d); err != nil {
		return nil, fmt.Errorf("mail: %s text: %w", kind, err)
	}
	if err := t.html.ExecuteTemplate(&html, "layout", d); err != nil {
		return nil, fmt.Errorf("mail: %s html: %w", kind, err)
	}
	return &Message{
		Kind:    kind,
		To:      to,
		Subject: strings.Join(strings.Fields(subject.String()), " "),
		Text:    strings.TrimSpace(text.String()) + "\n",
		HTML:    html.String(),
	}, nil
}
