package web

import (
	"net/http"
	"net/url"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/support"
)

// option is a choice of a select; Label is its catalog key.
type option struct{ Value, Label string }

var categoryOptions = []option{
	{support.CategoryLostDevice, "support.category.lost_device"},
	{support.CategoryCodesRejected, "support.category.codes_rejected"},
	{support.CategoryOther, "support.category.other"},
}

var verificationOptions = []option{
	{support.VerifyEmailLink, "case.verification.email_link"},
	{support.VerifyPhoneCallback, "case.verification.phone_callback"},
	{support.VerifyIDDocument, "case.verification.id_document"},
	{support.VerifyOther, "case.verification.other"},
}

// statusLabels are the catalog keys of the case statuses.
var statusLabels = map[string]string{
	store.CaseOpen: "case.status.open", store.CaseWaitingForUser: "case.status.waiting_for_user",
	store.CaseResolved: "case.status.resolved", store.CaseRejected: "case.status.rejected",
}

// supportFormData refills the public form after an error.
type supportFormData struct {
	Form       map[string]string
	Categories []option
}

func (s *Server) supportPage(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, "support_form", view{Title: s.tr(r, "support.title"),
		Data: supportFormData{Form: map[string]string{}, Categories: categoryOptions}})
	return nil
}

func (s *Server) supportSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	in := support.CaseRequest{FullName: f.Get("full_name"), Email: f.Get("email"), Organisation: f.Get("organisation"),
		Phone: f.Get("phone"), Category: f.Get("category"), Description: f.Get("description")}
	ref, err := s.support.OpenCase(r.Context(), in, meta(r))
	if err != nil {
		return onForm(err, func(status int, msg formProblem) error {
			s.render(w, r, status, "support_form", view{Title: s.tr(r, "support.title"), Error: msg.Message, Field: msg.Field,
				Data: supportFormData{Categories: categoryOptions, Form: map[string]string{
					"full_name": in.FullName, "email": in.Email, "organisation": in.Organisation, "phone": in.Phone,
					"category": in.Category, "description": in.Description}}})
			return nil
		})
	}
	// Post/redirect/get: reloading the confirmation does not send the request again.
	redirect(w, r, "/support/sent?ref="+url.QueryEscape(ref))
	return nil
}

// supportSent confirms a request with its reference (only a well-formed reference is
// shown, so the page cannot be made to display someone else's words).
func (s *Server) supportSent(w http.ResponseWriter, r *http.Request) error {
	ref, ok := support.NormalizeReference(r.URL.Query().Get("ref"))
	if !ok {
		redirect(w, r, "/support")
		return nil
	}
	s.render(w, r, http.StatusOK, "support_sent", view{Title: s.tr(r, "support_sent.title"), Data: map[string]string{"Reference": ref}})
	return nil
}

// verifyData is the e-mail confirmation page.
type verifyData struct {
	Token string
	Info  *support.LinkInfo
}

// verifyForm draws the e-mail confirmation page with an error and no form.
func (s *Server) verifyForm(w http.ResponseWriter, r *http.Request) func(status int, msg formProblem) error {
	return func(status int, msg formProblem) error {
		s.render(w, r, status, "support_verify", view{Title: s.tr(r, "email_confirm.title"), Error: msg.Message, Field: msg.Field, Data: verifyData{}})
		return nil
	}
}

func (s *Server) verifyPage(w http.ResponseWriter, r *http.Request) error {
	tok := r.URL.Query().Get("token")
	info, err := s.support.CheckLink(r.Context(), tok)
	if err != nil {
		return onForm(err, s.verifyForm(w, r))
	}
	s.render(w, r, http.StatusOK, "support_verify", view{Title: s.tr(r, "email_confirm.title"), Data: verifyData{Token: tok, Info: info}})
	return nil
}

func (s *Server) verifySubmit(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	info, err := s.support.ConfirmLink(r.Context(), r.PostForm.Get("token"), meta(r))
	if err != nil {
		return onForm(err, s.verifyForm(w, r))
	}
	if err := s.setResult(w, resultSupportVerified, info); err != nil {
		return err
	}
	redirect(w, r, "/support/verified")
	return nil
}

// resultSupportVerified is the kind of result a confirmed support link hands on.
const resultSupportVerified = "support-verified"

// verifiedPage thanks for a confirmed support link; without that result it sends the
// browser to the support form.
func (s *Server) verifiedPage(w http.ResponseWriter, r *http.Request) error {
	var info support.LinkInfo
	if !s.result(r, resultSupportVerified, &info) {
		redirect(w, r, "/support")
		return nil
	}
	s.render(w, r, http.StatusOK, "support_verified", view{Title: s.tr(r, "email_confirmed.title"), Data: &info})
	return nil
}

type casesData struct {
	Cases    []support.Summary
	Status   string
	Search   string
	Statuses []option
	Labels   map[string]string
}

func (s *Server) casesPage(w http.ResponseWriter, r *http.Request) error {
	cur := sessionOf(r)
	q := r.URL.Query()
	d := casesData{Status: q.Get("status"), Search: q.Get("q"), Labels: statusLabels}
	for _, st := range support.Statuses {
		d.Statuses = append(d.Statuses, option{st, statusLabels[st]})
	}
	list, err := s.support.ListCases(r.Context(), cur.User, support.Filter{Status: d.Status, Search: d.Search})
	if err != nil {
		return err
	}
	d.Cases = list
	s.render(w, r, http.StatusOK, "support_cases", view{Title: s.tr(r, "nav.support_cases"), Data: d})
	return nil
}

type caseData struct {
	*support.Details
	Agent         *store.Account
	Labels        map[string]string
	Categories    map[string]string
	Verifications []option
	Closed        bool
	Form          map[string]string
}

// HowVerified is the catalog key of how the pending reset's requester verified the user
// ("other means" for a value this release does not know).
func (d caseData) HowVerified() string {
	if k, ok := support.VerifiedBy[d.Pending.Verification]; ok {
		return k
	}
	return support.VerifiedBy[support.VerifyOther]
}

// caseFlashes are the catalog keys of what the case page says after its forms.
var caseFlashes = map[string]string{
	"assign":       "case.flash.assign",
	"notes":        "case.flash.notes",
	"verify-email": "case.flash.verify_email",
	"reset":        "case.flash.reset",
	"requested":    "case.flash.requested",
	"approved":     "case.flash.approved",
	"resolve":      "case.flash.resolve",
}

func (s *Server) casePage(w http.ResponseWriter, r *http.Request) error {
	cur := sessionOf(r)
	flash := ""
	if key, ok := caseFlashes[r.URL.Query().Get("done")]; ok {
		flash = s.tr(r, key)
	}
	return s.renderCase(w, r, cur, http.StatusOK, formProblem{}, flash, nil)
}

// renderCase draws the case page; the error is that of loading the case.
func (s *Server) renderCase(w http.ResponseWriter, r *http.Request, cur *auth.Current, status int, msg formProblem, flash string, form map[string]string) error {
	d, err := s.support.Case(r.Context(), cur.User, r.PathValue("ref"))
	if err != nil {
		return err
	}
	cats := map[string]string{}
	for _, c := range categoryOptions {
		cats[c.Value] = c.Label
	}
	if form == nil {
		form = map[string]string{}
	}
	s.render(w, r, status, "support_case", view{Title: s.tr(r, "case.title", "Reference", d.Case.Reference), Error: msg.Message, Field: msg.Field, Flash: flash,
		Data: caseData{Details: d, Agent: cur.User, Labels: statusLabels, Categories: cats, Verifications: verificationOptions,
			Closed: store.CaseClosed(d.Case.Status), Form: form}})
	return nil
}

// caseAction runs a form posted from the case page, then shows the page again.
func (s *Server) caseAction(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("ref")
	cur := sessionOf(r)
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	action, done := r.PathValue("action"), r.PathValue("action")
	var err error
	switch action {
	case "assign":
		err = s.support.Assign(r.Context(), cur.User, ref, meta(r))
	case "notes":
		_, err = s.support.AddNote(r.Context(), cur.User, ref, f.Get("text"), meta(r))
	case "verify-email":
		_, err = s.support.SendVerification(r.Context(), cur.User, ref, f.Get("user_id"), meta(r))
	case "reset-mfa":
		var res *support.ResetResult
		res, err = s.support.RequestReset(r.Context(), cur.User, ref, support.ResetRequest{UserID: f.Get("user_id"),
			Verification: f.Get("verification"), Note: f.Get("note"), MFAState: f.Get("mfa_state")}, meta(r))
		done = "reset"
		if err == nil && res.Status == support.ResetPending {
			done = "requested"
		}
	case "resolve":
		err = s.support.Close(r.Context(), cur.User, ref, f.Get("outcome"), f.Get("reason"), meta(r))
	default:
		return apperr.Msg(apperr.CodeNotFound, "err.no_such_action")
	}
	if err != nil {
		form := map[string]string{"text": f.Get("text"), "verification": f.Get("verification"), "note": f.Get("note"),
			"outcome": f.Get("outcome"), "reason": f.Get("reason")}
		return onForm(err, func(status int, msg formProblem) error {
			return s.renderCase(w, r, cur, status, msg, "", form)
		})
	}
	redirect(w, r, "/support/cases/"+url.PathEscape(ref)+"?done="+done)
	return nil
}

func (s *Server) caseApprove(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("ref")
	cur := sessionOf(r)
	if _, err := s.support.ApproveReset(r.Context(), cur.User, ref, meta(r)); err != nil {
		return onForm(err, func(status int, msg formProblem) error {
			return s.renderCase(w, r, cur, status, msg, "", nil)
		})
	}
	redirect(w, r, "/support/cases/"+url.PathEscape(ref)+"?done=approved")
	return nil
}
