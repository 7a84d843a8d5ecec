package support_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/support"
)

// TestTimelineInTheReadersLanguage walks a case through every kind of entry the desk writes
// (opened, assigned, a note, a verification link sent and confirmed, a reset requested,
// approved and noticed, a void request cancelled, closed) and reads its timeline in each
// language: English is the stored text, word for word; German and French say every entry
// in their own words, with what people typed (names, the note, the reason) as typed.
func TestTimelineInTheReadersLanguage(t *testing.T) {
	d := newDualControl(t)
	ctx := t.Context()
	bob := &d.bob.Account
	if err := d.db.CreateWebAuthnCredential(ctx, &store.WebAuthnCredential{ID: "k1", UserID: d.ada.ID, CredentialID: []byte("cred-1"),
		PublicKey: []byte("pk"), AAGUID: make([]byte, 16), Name: "Yubi <5>", CreatedAt: d.clock.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := d.approval.Assign(ctx, bob, d.ref, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.approval.AddNote(ctx, bob, d.ref, "Rief an, klingt echt.", auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.approval.SendVerification(ctx, bob, d.ref, d.ada.ID, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	msgs := d.mail.Messages()
	tok := regexp.MustCompile(`/support/verify\?token=([A-Za-z0-9_-]+)`).FindStringSubmatch(msgs[len(msgs)-1].Text)
	if tok == nil {
		t.Fatalf("no verification link in %q", msgs[len(msgs)-1].Text)
	}
	if _, err := d.approval.ConfirmLink(ctx, tok[1], auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	d.request(t) // alice, verified by "other", note "called back"
	d.clock = d.clock.Add(support.PendingResetTTL + time.Second)
	if _, err := d.approval.ApproveReset(ctx, bob, d.ref, auth.Meta{}); err == nil {
		t.Fatal("an expired request was approved")
	}
	d.request(t)
	if _, err := d.approval.ApproveReset(ctx, bob, d.ref, auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	if err := d.approval.Close(ctx, bob, d.ref, support.OutcomeResolved, "Neue App eingerichtet", auth.Meta{}); err != nil {
		t.Fatal(err)
	}
	c, err := d.approval.Case(ctx, bob, d.ref)
	if err != nil {
		t.Fatal(err)
	}

	// Each entry in English (as stored, as before), German and French.
	until := d.clock.Add(-support.PendingResetTTL - time.Second).Add(support.LinkTTL).UTC()
	want := [][3]string{
		{"Case opened from the support page (lost or replaced phone).",
			"Fall über die Support-Seite eröffnet (Telefon verloren oder ersetzt).",
			"Demande ouverte depuis la page d’assistance (téléphone perdu ou remplacé)."},
		{"Assigned to bob.", "bob zugewiesen.", "Assignée à bob."},
		{"Rief an, klingt echt.", "Rief an, klingt echt.", "Rief an, klingt echt."},
		{"Verification link sent to ada@example.com (account ada), valid until " + until.Format("2 Jan 2006 15:04 UTC") + ".",
			"Bestätigungslink an ada@example.com gesendet (Konto ada), gültig bis " + until.Format("02.01.2006, 15:04 UTC") + ".",
			"Lien de vérification envoyé à ada@example.com (compte ada), valable jusqu’au " + until.Format("02/01/2006 15:04 UTC") + "."},
		{"E-mail ownership confirmed: ada@example.com, from an unknown address.",
			"Besitz der E-Mail-Adresse bestätigt: ada@example.com, von einer unbekannten Adresse.",
			"Possession de l’adresse e-mail confirmée : ada@example.com, depuis une adresse inconnue."},
		{"alice asks to reset the MFA of ada (verified by other means: called back). A second agent must approve.",
			"alice beantragt, die MFA von ada zurückzusetzen (geprüft durch andere Mittel: called back). Ein zweiter Agent muss zustimmen.",
			"alice demande la réinitialisation de la MFA de ada (identité vérifiée par un autre moyen : called back). Un second agent doit approuver."},
		{"The reset waiting for approval was cancelled: it expired (a request waits at most 24 hours).",
			"Das auf Genehmigung wartende Zurücksetzen wurde abgebrochen: Der Antrag ist abgelaufen (ein Antrag wartet höchstens 24 Stunden).",
			"La réinitialisation en attente d’approbation a été annulée : elle a expiré (une demande attend au plus 24 heures)."},
		{"alice asks to reset the MFA of ada (verified by other means: called back). A second agent must approve.",
			"alice beantragt, die MFA von ada zurückzusetzen (geprüft durch andere Mittel: called back). Ein zweiter Agent muss zustimmen.",
			"alice demande la réinitialisation de la MFA de ada (identité vérifiée par un autre moyen : called back). Un second agent doit approuver."},
		{"MFA of ada reset by alice, approved by bob (verified by other means: called back). Removed: authenticator app, security key “Yubi <5>”, recovery code; 0 sessions ended. The next sign-in sets up a new authenticator.",
			"MFA von ada zurückgesetzt durch alice, genehmigt von bob (geprüft durch andere Mittel: called back). Entfernt: Authenticator-App, Sicherheitsschlüssel „Yubi <5>“, Wiederherstellungscode; 0 Sitzungen beendet. Bei der nächsten Anmeldung wird eine neue Authenticator-App eingerichtet.",
			"MFA de ada réinitialisée par alice, approuvée par bob (identité vérifiée par un autre moyen : called back). Éléments supprimés : application d’authentification, clé de sécurité « Yubi <5> », code de récupération ; 0 session fermée. La prochaine connexion configure une nouvelle application d’authentification."},
		{"Reset notice to ada@example.com queued for sending.",
			"Benachrichtigung über das Zurücksetzen an ada@example.com zum Versand vorgemerkt.",
			"Avis de réinitialisation à ada@example.com mis en file d’envoi."},
		{"Resolved: Neue App eingerichtet", "Gelöst: Neue App eingerichtet", "Résolue : Neue App eingerichtet"},
	}
	if len(c.Timeline) != len(want) {
		for _, e := range c.Timeline {
			t.Logf("%s: %s", e.Kind, e.Body)
		}
		t.Fatalf("%d timeline entries, want %d", len(c.Timeline), len(want))
	}
	for i, e := range c.Timeline {
		if e.Body != want[i][0] {
			t.Errorf("entry %d (%s) stored as\n%q, want\n%q", i, e.Kind, e.Body, want[i][0])
		}
		for j, lang := range []string{"en", "de", "fr"} {
			if got := e.In(lang); got != want[i][j] {
				t.Errorf("entry %d (%s) in %s:\n%q, want\n%q", i, e.Kind, lang, got, want[i][j])
			}
		}
	}
}

// TestTimelineEntryFallsBackToItsText: an entry whose Text is missing (a note, an entry of
// an earlier release), damaged, names a sentence this release lacks (written by a newer
// one during a rolling upgrade) or nests past any entry's depth is shown as stored.
func TestTimelineEntryFallsBackToItsText(t *testing.T) {
	deep := `{"k":"timeline.assigned","a":[{"n":"Agent","v":"x"}]}`
	for range 6 {
		deep = `{"k":"timeline.approved_by","a":[{"n":"By","t":[` + deep + `]},{"n":"Approver","v":"y"}]}`
	}
	for _, msg := range []string{
		"",
		"{",
		`{"k":""}`,
		`"timeline.assigned"`,
		`{"k":"timeline.from_release_99","a":[{"n":"Agent","v":"bob"}]}`,
		`{"k":"timeline.assigned","a":[{"n":"Agent","t":[{"k":"timeline.from_release_99"}]}]}`,
		deep,
	} {
		e := support.Entry{Kind: support.EventAssigned, Body: "Assigned to bob.", Message: msg}
		for _, lang := range []string{"en", "de", "fr", "xx"} {
			if got := e.In(lang); got != e.Body {
				t.Errorf("message %.60q in %s: %q, want the stored text", msg, lang, got)
			}
		}
	}
	// The same entry, whole, in a language the catalog lacks: English.
	e := support.Entry{Body: "stored", Message: `{"k":"timeline.assigned","a":[{"n":"Agent","v":"bob"}]}`}
	if got := e.In("xx"); got != "Assigned to bob." || !strings.Contains(e.In("de"), "zugewiesen") {
		t.Errorf("In(xx) = %q, In(de) = %q", got, e.In("de"))
	}
}

// TestCaseDescriptionInTheReadersLanguage: the description of a case an administrator
// opened is said in the reader's language, with the reason as typed; a description
// without a sentence, or with one this release cannot say, is shown as stored.
func TestCaseDescriptionInTheReadersLanguage(t *testing.T) {
	msg := `{"k":"case.description_admin","a":[{"n":"By","t":[{"k":"timeline.by_admin","a":[{"n":"Name","v":"pat"}]}]},{"n":"Reason","v":"lost <b>phone</b>"}]}`
	d := support.Details{Case: store.SupportCase{Description: "stored", DescriptionMessage: msg}}
	for lang, want := range map[string]string{
		"en": "MFA reset requested by administrator pat: lost <b>phone</b>",
		"de": "Zurücksetzen der MFA beantragt von Administrator pat: lost <b>phone</b>",
		"fr": "Réinitialisation de la MFA demandée par l’administrateur pat : lost <b>phone</b>",
		"xx": "MFA reset requested by administrator pat: lost <b>phone</b>",
	} {
		if got := d.DescriptionIn(lang); got != want {
			t.Errorf("DescriptionIn(%s) = %q, want %q", lang, got, want)
		}
	}
	for _, msg := range []string{"", "{", `{"k":"case.from_release_99","a":[{"n":"Reason","v":"x"}]}`} {
		d.Case.DescriptionMessage = msg
		if got := d.DescriptionIn("de"); got != "stored" {
			t.Errorf("message %q: DescriptionIn(de) = %q, want the stored description", msg, got)
		}
	}
}
