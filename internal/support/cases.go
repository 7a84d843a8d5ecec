package support

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/i18n"
	"github.com/twofold-id/twofold/internal/mail"
	"github.com/twofold-id/twofold/internal/ratelimit"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/throttle"
)

// Case categories.
const (
	CategoryLostDevice    = "lost_device"
	CategoryCodesRejected = "codes_rejected"
	CategoryOther         = "other"
)

// Categories lists the categories in the order the support page offers them.
var Categories = []string{CategoryLostDevice, CategoryCodesRejected, CategoryOther}

// Field limits, in characters (Unicode code points).
const (
	MaxFullName     = 200
	MaxEmail        = 254
	MaxOrganisation = 200
	MaxPhone        = 40
	MaxDescription  = 4000
	MaxNote         = 4000
	MaxReason       = 1000
	MaxSearch       = 200
)

// Timeline entry kinds.
const (
	EventOpened           = "opened"
	EventNote             = "note"
	EventAssigned         = "assigned"
	EventVerificationSent = "verification_sent"
	EventEmailConfirmed   = "email_confirmed"
	EventResetRequested   = "reset_requested"
	EventMFAReset         = "mfa_reset"
	EventResetCancelled   = "reset_cancelled"
	EventUserNotified     = "user_notified"
	EventMailFailed       = "mail_failed"
	EventResolved         = "resolved"
	EventRejected         = "rejected"
)

// CaseRequest is what the public support page submits.
type CaseRequest struct {
	FullName     string
	Email        string
	Organisation string
	Phone        string // optional
	Category     string
	Description  string
}

// OpenCase records a support case and e-mails its reference to the address given, and
// returns the reference. It never reveals, by its answer or by the work it does, whether
// an account uses that address: it looks no account up at all (agents see the matching
// accounts when they open the case), so the same store operations and the same mail
// happen either way. Bad input gives bad_request naming the field; too many cases from
// one client address (an IPv6 /64) or for one e-mail address (case and "+tag" folded) give
// rate_limited with a wait. Past the hourly cap on the form's mail the case is opened and
// the answer is the same, but no mail is sent.
func (s *Service) OpenCase(ctx context.Context, in CaseRequest, m Meta) (string, error) {
	c, err := validateCase(in)
	if err != nil {
		return "", err
	}
	if ok, wait := s.perIP.Allow("ip:" + ratelimit.AddressKey(m.IP)); !ok {
		return "", apperr.RateLimited("err.support_limit_ip", wait)
	}
	if ok, wait := s.perEmail.Allow("email:" + ratelimit.EmailKey(c.EmailNorm)); !ok {
		return "", apperr.RateLimited("err.support_limit_email", wait)
	}
	// Past the hourly mail cap the case is opened and answered all the same, but no
	// confirmation is sent: the form must not become a way to send mail in bulk.
	mayMail, err := s.takeFormMail(ctx, m)
	if err != nil {
		return "", err
	}
	now := s.now()
	c.ID, c.Status, c.CreatedAt, c.UpdatedAt = newID(), store.CaseOpen, now, now
	c.IP, c.UserAgent = clip(m.IP, 64), clip(m.UserAgent, 256)
	m.ActorID = ""
	// A reference clash (one in tens of millions per existing case) is retried with a
	// new one, in a new transaction: PostgreSQL ends a transaction at the failed insert.
	for attempt := 0; ; attempt++ {
		if c.Reference, err = newReference(s.rand); err != nil {
			return "", err
		}
		err = s.store.WithTx(ctx, func(st store.Store) error {
			if err := st.CreateCase(ctx, c); err != nil {
				return err
			}
			if err := s.timeline(ctx, st, c.ID, EventOpened, "", say("timeline.opened", "Category", categoryText(c.Category))); err != nil {
				return err
			}
			if !mayMail {
				if err := s.timeline(ctx, st, c.ID, EventMailFailed, "", say("timeline.mail_capped")); err != nil {
					return err
				}
			} else if _, err := s.post.Send(ctx, st, mail.KindCaseReceived, c.Email, mail.Data{Reference: c.Reference, Lang: i18n.FromContext(ctx)}); err != nil {
				// The confirmation goes to the address given, account or not. It holds no
				// text the requester typed (not even the name): the form must not relay an
				// anonymous sender's words to any address from the organisation's mail
				// server.
				return err
			}
			return s.record(ctx, st, audit.SupportCaseOpened, "", m, fmt.Sprintf("case=%s category=%s", c.Reference, c.Category))
		})
		if !errors.Is(err, store.ErrConflict) || attempt == 4 {
			break
		}
	}
	if err != nil {
		return "", err
	}
	s.metrics.SupportCaseOpened()
	return c.Reference, nil
}

// formMailCounter names the hourly count of mail sent from the public support form.
const formMailCounter = "support_form_mail"

// takeFormMail takes one mail from this hour's cap on the public form's mail, counted in
// the database so the cap holds across instances. Past the cap it returns false, and the
// first refusal of the hour (only that one, on whichever instance) is audited and logged.
func (s *Service) takeFormMail(ctx context.Context, m Meta) (bool, error) {
	took, err := throttle.TakeHourly(ctx, s.store, formMailCounter, s.now(), s.mailsPerHour)
	if err != nil || !took.FirstRefusal {
		return took.Granted, err
	}
	hour := took.Hour
	detail := fmt.Sprintf("cap=%d hour=%s", s.mailsPerHour, hour.Format(time.RFC3339))
	s.log.WarnContext(ctx, "support form mail cap reached: cases are opened without a confirmation until the next hour",
		"cap", s.mailsPerHour, "hour", hour)
	if err := s.record(ctx, s.store, audit.SupportMailCapped, "", m, detail); err != nil {
		s.log.ErrorContext(ctx, "audit row not written", "event", audit.SupportMailCapped, "err", err)
	}
	return false, nil
}

func categoryText(c string) Text {
	switch c {
	case CategoryLostDevice:
		return say("timeline.category.lost_device")
	case CategoryCodesRejected:
		return say("timeline.category.codes_rejected")
	}
	return say("timeline.category.other")
}

// badField is a bad_request about field: the message names the field for the API ("Field
// "email": is required."), the catalog's key says it for the page beside the field.
func badField(field, msg, key string, args ...any) error {
	e := apperr.Msg(apperr.CodeBadRequest, key, args...).In(field)
	if m, _ := utf8.DecodeRuneInString(msg); unicode.IsLower(m) {
		e.Message = fmt.Sprintf("Field %q %s", field, msg) // Field "reason" is required.
	} else {
		e.Message = fmt.Sprintf("Field %q: %s", field, msg) // a sentence of its own
	}
	return e
}

// cleanText trims and NFC-normalises a free-text field and checks its length and that it
// has no control characters (multiline allows line breaks and tabs).
func cleanText(field, v string, max int, required, multiline bool) (string, error) {
	if !utf8.ValidString(v) {
		return "", badField(field, "must be valid UTF-8 text.", "err.field_not_text")
	}
	if len(v) > 4*max+64 { // cheap bound before normalising
		return "", badField(field, fmt.Sprintf("must have at most %d characters.", max), "err.field_too_long", "Max", max)
	}
	v = strings.TrimSpace(norm.NFC.String(strings.ReplaceAll(v, "\r\n", "\n")))
	if v == "" {
		if required {
			return "", badField(field, "is required.", "err.field_required")
		}
		return "", nil
	}
	if utf8.RuneCountInString(v) > max {
		return "", badField(field, fmt.Sprintf("must have at most %d characters.", max), "err.field_too_long", "Max", max)
	}
	for _, r := range v {
		if (r == '\n' || r == '\t') && multiline {
			continue
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || (unicode.Is(unicode.Cf, r) && r != '\u200d') {
			return "", badField(field, "must not contain control characters.", "err.field_control")
		}
	}
	return v, nil
}

func validateCase(in CaseRequest) (*store.SupportCase, error) {
	var c store.SupportCase
	var err error
	if c.FullName, err = cleanText("full_name", in.FullName, MaxFullName, true, false); err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.Email) == "" {
		return nil, badField("email", "is required.", "err.field_required")
	}
	if c.Email, c.EmailNorm, err = auth.ValidateEmail(in.Email); err != nil {
		for _, reason := range []*apperr.Error{auth.ErrEmailDomainLiteral, auth.ErrEmailPercent} {
			if errors.Is(err, reason) {
				return nil, badField("email", reason.Message, reason.Key, reason.Args...)
			}
		}
		return nil, badField("email", "must be an e-mail address such as name@example.com.", "err.email_invalid")
	}
	if c.Organisation, err = cleanText("organisation", in.Organisation, MaxOrganisation, true, false); err != nil {
		return nil, err
	}
	if c.Phone, err = cleanText("phone", in.Phone, MaxPhone, false, false); err != nil {
		return nil, err
	}
	for _, r := range c.Phone {
		if !strings.ContainsRune("0123456789+-()./ ", r) {
			return nil, badField("phone", "may contain only digits, spaces and + - ( ) . /", "err.phone_chars")
		}
	}
	switch in.Category {
	case CategoryLostDevice, CategoryCodesRejected, CategoryOther:
		c.Category = in.Category
	case "":
		return nil, badField("category", "is required: lost_device, codes_rejected or other.", "err.category_required")
	default:
		return nil, badField("category", "must be lost_device, codes_rejected or other.", "err.category_required")
	}
	if c.Description, err = cleanText("description", in.Description, MaxDescription, true, true); err != nil {
		return nil, err
	}
	return &c, nil
}
