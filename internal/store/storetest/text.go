package storetest

import (
	"testing"

	"github.com/twofold-id/twofold/internal/store"
)

var textTests = []subtest{
	{"LookupsRefuseIt", testTextLookups},
	{"WritesRefuseItAndChangeNothing", testTextWrites},
}

// notText are strings no store accepts: a NUL (PostgreSQL refuses it in text columns,
// SQLite would store it) and bytes that are not UTF-8.
var notText = map[string]string{"NUL": "ada\x00", "invalid UTF-8": "ada\xff", "lone NUL": "\x00"}

func testTextLookups(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreateUser(t, s, "ada")
	mustCreateCase(t, s, "TF-AAAAAA", "ada@example.com", at(0))
	for label, v := range notText {
		_, err := s.GetUserByLogin(ctx, v)
		wantErr(t, "GetUserByLogin("+label+")", err, store.ErrInvalidText)
		_, err = s.GetUserByUsername(ctx, v)
		wantErr(t, "GetUserByUsername("+label+")", err, store.ErrInvalidText)
		_, err = s.GetUser(ctx, v)
		wantErr(t, "GetUser("+label+")", err, store.ErrInvalidText)
		_, err = s.GetCaseByReference(ctx, v)
		wantErr(t, "GetCaseByReference("+label+")", err, store.ErrInvalidText)
		_, err = s.ListCases(ctx, store.CaseFilter{Search: v})
		wantErr(t, "ListCases(search "+label+")", err, store.ErrInvalidText)
	}
}

func testTextWrites(t *testing.T, s store.Store) {
	ctx := t.Context()
	ada := mustCreateUser(t, s, "ada")
	for label, v := range notText {
		u := userFixture(t, "bob")
		u.Username, u.UsernameNorm = v, v
		wantErr(t, "CreateUser(username "+label+")", s.CreateUser(ctx, u), store.ErrInvalidText)
		wantErr(t, "SetUserRole("+label+")", s.SetUserRole(ctx, ada.ID, v, at(0)), store.ErrInvalidText)
		wantErr(t, "AppendAudit(detail "+label+")",
			s.AppendAudit(ctx, &store.AuditEvent{At: at(0), Event: "user.created", SubjectID: ada.ID, Detail: v}), store.ErrInvalidText)
		c := caseFixture(t, "TF-BBBBBB", "bob@example.com", at(0))
		c.Description = v
		wantErr(t, "CreateCase(description "+label+")", s.CreateCase(ctx, c), store.ErrInvalidText)
		err := s.WithTx(ctx, func(tx store.Store) error {
			return tx.SetUserRole(ctx, ada.ID, v, at(0))
		})
		wantErr(t, "SetUserRole("+label+") in a transaction", err, store.ErrInvalidText)
	}
	users, err := s.ListUsers(ctx)
	wantNoErr(t, "ListUsers", err)
	if len(users) != 1 || users[0].Role != store.RoleUser {
		t.Errorf("users after the refused writes: %+v, want ada alone, unchanged", users)
	}
	wantNoErr(t, "CreateCase after the refusals", s.CreateCase(ctx, caseFixture(t, "TF-BBBBBB", "bob@example.com", at(0))))
	if events := listAudit(t, s, store.AuditFilter{}); len(events) != 0 {
		t.Errorf("audit after the refused writes: %+v, want none", events)
	}
}
