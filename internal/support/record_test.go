package support_test

// Code below is a store.Store that records the name of every method called on it, for
// the test that opening a case does the same store work whether or not an account uses
// the address. It overrides every method of Store and SupportStore; other embedded
// interfaces (issue 5, 6) pass through unrecorded, and support never calls them.

import (
	"context"
	"sync"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

type callLog struct {
	mu    sync.Mutex
	calls []string
}

func (l *callLog) add(name string) { l.mu.Lock(); l.calls = append(l.calls, name); l.mu.Unlock() }

func (l *callLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.calls
	l.calls = nil
	return out
}

type recordingStore struct {
	store.Store
	log *callLog
}

func (r *recordingStore) WithTx(ctx context.Context, fn func(store.Store) error) error {
	r.log.add("WithTx")
	return r.Store.WithTx(ctx, func(tx store.Store) error { return fn(&recordingStore{Store: tx, log: r.log}) })
}

func (r *recordingStore) Ping(ctx context.Context) error {
	r.log.add("Ping")
	return r.Store.Ping(ctx)
}

func (r *recordingStore) Close() error {
	r.log.add("Close")
	return r.Store.Close()
}

func (r *recordingStore) CreateUser(ctx context.Context, u *store.User) error {
	r.log.add("CreateUser")
	return r.Store.CreateUser(ctx, u)
}

func (r *recordingStore) GetUser(ctx context.Context, id string) (*store.User, error) {
	r.log.add("GetUser")
	return r.Store.GetUser(ctx, id)
}

func (r *recordingStore) GetUserByUsername(ctx context.Context, usernameNorm string) (*store.User, error) {
	r.log.add("GetUserByUsername")
	return r.Store.GetUserByUsername(ctx, usernameNorm)
}

func (r *recordingStore) GetUserByLogin(ctx context.Context, identifierNorm string) (*store.User, error) {
	r.log.add("GetUserByLogin")
	return r.Store.GetUserByLogin(ctx, identifierNorm)
}

func (r *recordingStore) ListUsers(ctx context.Context) ([]store.User, error) {
	r.log.add("ListUsers")
	return r.Store.ListUsers(ctx)
}

func (r *recordingStore) CountUsersWithRole(ctx context.Context, role string) (int, error) {
	r.log.add("CountUsersWithRole")
	return r.Store.CountUsersWithRole(ctx, role)
}

func (r *recordingStore) SetUserRole(ctx context.Context, id, role string, now time.Time) error {
	r.log.add("SetUserRole")
	return r.Store.SetUserRole(ctx, id, role, now)
}

func (r *recordingStore) SetUserDisabled(ctx context.Context, id string, disabled bool, now time.Time) error {
	r.log.add("SetUserDisabled")
	return r.Store.SetUserDisabled(ctx, id, disabled, now)
}

func (r *recordingStore) SetUserMFAOverride(ctx context.Context, id, override string, now time.Time) error {
	r.log.add("SetUserMFAOverride")
	return r.Store.SetUserMFAOverride(ctx, id, override, now)
}

func (r *recordingStore) SetUserPasswordHash(ctx context.Context, id, hash string, now time.Time) error {
	r.log.add("SetUserPasswordHash")
	return r.Store.SetUserPasswordHash(ctx, id, hash, now)
}

func (r *recordingStore) SetUserLastLogin(ctx context.Context, id string, at time.Time) error {
	r.log.add("SetUserLastLogin")
	return r.Store.SetUserLastLogin(ctx, id, at)
}

func (r *recordingStore) GetTOTP(ctx context.Context, userID string) (*store.TOTPCredential, error) {
	r.log.add("GetTOTP")
	return r.Store.GetTOTP(ctx, userID)
}

func (r *recordingStore) PutTOTP(ctx context.Context, c *store.TOTPCredential) error {
	r.log.add("PutTOTP")
	return r.Store.PutTOTP(ctx, c)
}

func (r *recordingStore) AcceptTOTPStep(ctx context.Context, userID string, step int64, now time.Time) error {
	r.log.add("AcceptTOTPStep")
	return r.Store.AcceptTOTPStep(ctx, userID, step, now)
}

func (r *recordingStore) DeleteTOTP(ctx context.Context, userID string) error {
	r.log.add("DeleteTOTP")
	return r.Store.DeleteTOTP(ctx, userID)
}

func (r *recordingStore) PutPendingTOTP(ctx context.Context, p *store.PendingTOTP) error {
	r.log.add("PutPendingTOTP")
	return r.Store.PutPendingTOTP(ctx, p)
}

func (r *recordingStore) GetPendingTOTP(ctx context.Context, userID string, now time.Time) (*store.PendingTOTP, error) {
	r.log.add("GetPendingTOTP")
	return r.Store.GetPendingTOTP(ctx, userID, now)
}

func (r *recordingStore) GetRecoveryCode(ctx context.Context, userID string) (*store.RecoveryCode, error) {
	r.log.add("GetRecoveryCode")
	return r.Store.GetRecoveryCode(ctx, userID)
}

func (r *recordingStore) PutRecoveryCode(ctx context.Context, c *store.RecoveryCode) error {
	r.log.add("PutRecoveryCode")
	return r.Store.PutRecoveryCode(ctx, c)
}

func (r *recordingStore) ConsumeRecoveryCode(ctx context.Context, userID string, oldHash, newHash []byte, now time.Time) error {
	r.log.add("ConsumeRecoveryCode")
	return r.Store.ConsumeRecoveryCode(ctx, userID, oldHash, newHash, now)
}

func (r *recordingStore) DeleteRecoveryCode(ctx context.Context, userID string) error {
	r.log.add("DeleteRecoveryCode")
	return r.Store.DeleteRecoveryCode(ctx, userID)
}

func (r *recordingStore) CreateSession(ctx context.Context, s *store.SessionRecord) error {
	r.log.add("CreateSession")
	return r.Store.CreateSession(ctx, s)
}

func (r *recordingStore) GetSessionByToken(ctx context.Context, tokenHash []byte) (*store.SessionRecord, error) {
	r.log.add("GetSessionByToken")
	return r.Store.GetSessionByToken(ctx, tokenHash)
}

func (r *recordingStore) StepUpSession(ctx context.Context, id string, oldHash []byte, s *store.Session) error {
	r.log.add("StepUpSession")
	return r.Store.StepUpSession(ctx, id, oldHash, s)
}

func (r *recordingStore) TouchSession(ctx context.Context, id string, at time.Time) error {
	r.log.add("TouchSession")
	return r.Store.TouchSession(ctx, id, at)
}

func (r *recordingStore) SetSessionNotice(ctx context.Context, id string, noticeEnc []byte) error {
	r.log.add("SetSessionNotice")
	return r.Store.SetSessionNotice(ctx, id, noticeEnc)
}

func (r *recordingStore) DeleteSession(ctx context.Context, id string) error {
	r.log.add("DeleteSession")
	return r.Store.DeleteSession(ctx, id)
}

func (r *recordingStore) DeleteUserSessions(ctx context.Context, userID, exceptID string) (int, error) {
	r.log.add("DeleteUserSessions")
	return r.Store.DeleteUserSessions(ctx, userID, exceptID)
}

func (r *recordingStore) ListUserSessions(ctx context.Context, userID string, now time.Time) ([]store.SessionRecord, error) {
	r.log.add("ListUserSessions")
	return r.Store.ListUserSessions(ctx, userID, now)
}

func (r *recordingStore) DeleteExpired(ctx context.Context, now, idleBefore time.Time) (int, error) {
	r.log.add("DeleteExpired")
	return r.Store.DeleteExpired(ctx, now, idleBefore)
}

func (r *recordingStore) AppendAudit(ctx context.Context, e *store.AuditEvent) error {
	r.log.add("AppendAudit")
	return r.Store.AppendAudit(ctx, e)
}

func (r *recordingStore) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error) {
	r.log.add("ListAudit")
	return r.Store.ListAudit(ctx, f)
}

func (r *recordingStore) CreateSetupToken(ctx context.Context, tokenHash []byte, expiresAt time.Time) error {
	r.log.add("CreateSetupToken")
	return r.Store.CreateSetupToken(ctx, tokenHash, expiresAt)
}

func (r *recordingStore) CheckSetupToken(ctx context.Context, tokenHash []byte, now time.Time) error {
	r.log.add("CheckSetupToken")
	return r.Store.CheckSetupToken(ctx, tokenHash, now)
}

func (r *recordingStore) UseSetupToken(ctx context.Context, tokenHash []byte, now time.Time) error {
	r.log.add("UseSetupToken")
	return r.Store.UseSetupToken(ctx, tokenHash, now)
}

func (r *recordingStore) CreateCase(ctx context.Context, c *store.SupportCase) error {
	r.log.add("CreateCase")
	return r.Store.CreateCase(ctx, c)
}

func (r *recordingStore) GetCase(ctx context.Context, id string) (*store.SupportCase, error) {
	r.log.add("GetCase")
	return r.Store.GetCase(ctx, id)
}

func (r *recordingStore) GetCaseByReference(ctx context.Context, reference string) (*store.SupportCase, error) {
	r.log.add("GetCaseByReference")
	return r.Store.GetCaseByReference(ctx, reference)
}

func (r *recordingStore) ListCases(ctx context.Context, f store.CaseFilter) ([]store.SupportCase, error) {
	r.log.add("ListCases")
	return r.Store.ListCases(ctx, f)
}

func (r *recordingStore) AssignCase(ctx context.Context, id, assigneeID string, now time.Time) error {
	r.log.add("AssignCase")
	return r.Store.AssignCase(ctx, id, assigneeID, now)
}

func (r *recordingStore) SetCaseStatus(ctx context.Context, id, status string, now time.Time) error {
	r.log.add("SetCaseStatus")
	return r.Store.SetCaseStatus(ctx, id, status, now)
}

func (r *recordingStore) ConfirmCaseEmail(ctx context.Context, id, userID, emailNorm, ip string, now time.Time) error {
	r.log.add("ConfirmCaseEmail")
	return r.Store.ConfirmCaseEmail(ctx, id, userID, emailNorm, ip, now)
}

func (r *recordingStore) CloseCase(ctx context.Context, id, status, closedBy, reason string, now time.Time) error {
	r.log.add("CloseCase")
	return r.Store.CloseCase(ctx, id, status, closedBy, reason, now)
}

func (r *recordingStore) AddCaseEvent(ctx context.Context, e *store.CaseEvent) error {
	r.log.add("AddCaseEvent")
	return r.Store.AddCaseEvent(ctx, e)
}

func (r *recordingStore) ListCaseEvents(ctx context.Context, caseID string) ([]store.CaseEvent, error) {
	r.log.add("ListCaseEvents")
	return r.Store.ListCaseEvents(ctx, caseID)
}

func (r *recordingStore) CreateEmailLink(ctx context.Context, l *store.EmailLink) error {
	r.log.add("CreateEmailLink")
	return r.Store.CreateEmailLink(ctx, l)
}

func (r *recordingStore) GetEmailLink(ctx context.Context, tokenHash []byte, now time.Time) (*store.EmailLink, error) {
	r.log.add("GetEmailLink")
	return r.Store.GetEmailLink(ctx, tokenHash, now)
}

func (r *recordingStore) UseEmailLink(ctx context.Context, tokenHash []byte, now time.Time) error {
	r.log.add("UseEmailLink")
	return r.Store.UseEmailLink(ctx, tokenHash, now)
}

func (r *recordingStore) CreateMFAReset(ctx context.Context, x *store.MFAReset) error {
	r.log.add("CreateMFAReset")
	return r.Store.CreateMFAReset(ctx, x)
}

func (r *recordingStore) GetPendingMFAReset(ctx context.Context, caseID string) (*store.MFAReset, error) {
	r.log.add("GetPendingMFAReset")
	return r.Store.GetPendingMFAReset(ctx, caseID)
}

func (r *recordingStore) ApproveMFAReset(ctx context.Context, id, approverID string, now time.Time) error {
	r.log.add("ApproveMFAReset")
	return r.Store.ApproveMFAReset(ctx, id, approverID, now)
}

func (r *recordingStore) CancelMFAResets(ctx context.Context, caseID, by string, now time.Time) (int, error) {
	r.log.add("CancelMFAResets")
	return r.Store.CancelMFAResets(ctx, caseID, by, now)
}
