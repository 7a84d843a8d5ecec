package metrics

import "time"

// Step is the sign-in step a SignIn event is about.
type Step string

// Sign-in steps.
const (
	StepPassword     Step = "password"      // username or e-mail and password
	StepTOTP         Step = "totp"          // the code of an authenticator app
	StepRecoveryCode Step = "recovery_code" // the recovery code instead of the app's code
	StepWebAuthn     Step = "webauthn"      // a security key after the password
	StepPasskey      Step = "passkey"       // a passkey alone (passwordless)
)

// Result is how an attempt ended.
type Result string

// Results of an attempt.
const (
	OK        Result = "ok"        // accepted
	Invalid   Result = "invalid"   // a wrong password or code (also an unknown account)
	Throttled Result = "throttled" // refused unchecked: the account's failure budget makes it wait
	Busy      Result = "busy"      // refused unchecked: every password hasher was taken (503)
	Failed    Result = "error"     // the server failed (the database, most often)
)

// Factor is a kind of second factor.
type Factor string

// Second factor kinds.
const (
	FactorTOTP     Factor = "totp"     // an authenticator app
	FactorWebAuthn Factor = "webauthn" // a security key or passkey
)

// Grant is an OAuth grant type that issues tokens.
type Grant string

// Grants.
const (
	GrantAuthorizationCode Grant = "authorization_code"
	GrantRefreshToken      Grant = "refresh_token"
)

// Recorder receives the events the services emit. Every method is cheap and safe for
// concurrent use, and none may block: they run on the paths of requests.
type Recorder interface {
	// SignIn counts one attempt at a sign-in step.
	SignIn(step Step, result Result)
	// FactorEnrolled counts a second factor set up (a first one, or a replacement).
	FactorEnrolled(kind Factor)
	// RecoveryCodeUsed counts a recovery code spent (at a sign-in, to prove the second
	// factor again, or in a password reset).
	RecoveryCodeUsed()
	// MFAReset counts a reset of a user's second factors by the support desk or the console.
	MFAReset()
	// SupportCaseOpened counts a case opened on the public support page.
	SupportCaseOpened()
	// TokenIssued counts tokens issued to an application by grant.
	TokenIssued(grant Grant)
	// RefreshReused counts a used refresh token that came back (its family is revoked).
	RefreshReused()
	// HashWaited is how long a password hash waited for a free hasher, also when it gave
	// up waiting (and the request was answered busy).
	HashWaited(wait time.Duration)
	// BusyAnswered counts a request answered 503 busy.
	BusyAnswered()
	// DatabaseError counts an error of the database (not a missing row or a conflict);
	// unavailable when it could not be reached.
	DatabaseError(unavailable bool)
	// MailFailed counts a delivery attempt that failed; gaveUp when it was the last one.
	MailFailed(gaveUp bool)
	// Route returns the recorder of one HTTP route, named by its pattern ("GET /login").
	// It is called when the route is registered, never per request.
	Route(pattern string) RouteRecorder
}

// RouteRecorder records the requests one route answered.
type RouteRecorder interface {
	// Answered records one request: its method, the status sent and how long it took.
	Answered(method string, status int, took time.Duration)
}

// Nop is a Recorder that records nothing: metrics are off.
type Nop struct{}

var _ Recorder = Nop{}

func (Nop) SignIn(Step, Result)                      {}
func (Nop) FactorEnrolled(Factor)                    {}
func (Nop) RecoveryCodeUsed()                        {}
func (Nop) MFAReset()                                {}
func (Nop) SupportCaseOpened()                       {}
func (Nop) TokenIssued(Grant)                        {}
func (Nop) RefreshReused()                           {}
func (Nop) HashWaited(time.Duration)                 {}
func (Nop) BusyAnswered()                            {}
func (Nop) DatabaseError(bool)                       {}
func (Nop) MailFailed(bool)                          {}
func (Nop) Route(string) RouteRecorder               { return nopRoute{} }
func (nopRoute) Answered(string, int, time.Duration) {}

type nopRoute struct{}

// Or returns r, or Nop when r is nil.
func Or(r Recorder) Recorder {
	if r == nil {
		return Nop{}
	}
	return r
}

// MailQueue is the state of the durable mail queue, shared by every instance.
type MailQueue struct {
	Pending int // waiting for delivery or a retry
	Failed  int // given up on, until an operator retries them
	// Overdue is how long the earliest due pending mail has been due without being sent
	// (0 when none is due): it grows when no sender delivers.
	Overdue time.Duration
}
