package wire

import (
	"errors"
	"net/http"
	"slices"

	"bbimport/model"
)

// ErrorBody is Bitbucket's error answer.
type ErrorBody struct {
	Errors []APIError `json:"errors"`
}

// APIError is one error of an ErrorBody. Context names the offending field
// on a 400.
type APIError struct {
	Context       *string `json:"context"`
	Message       string  `json:"message"`
	ExceptionName *string `json:"exceptionName"`
}

// NewErrorBody is the answer of one error; an empty context is null in the
// JSON.
func NewErrorBody(context, message string) ErrorBody {
	e := APIError{Message: message}
	if context != "" {
		e.Context = &context
	}
	return ErrorBody{Errors: []APIError{e}}
}

// FieldError is a request parameter or body field that is not valid: a 400
// whose context names Field. Message says what is wrong, in lower case.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Message }

// Call names the calls whose error statuses stand for one of the model's
// errors: a 404 means "no such job" only on a job's own paths.
type Call int

// The calls a client tells apart; CallOther maps no status to an error.
const (
	CallOther   Call = iota
	CallStart        // POST /migration/imports
	CallJob          // GET /migration/imports/{jobId} and its messages
	CallCancel       // POST /migration/imports/{jobId}/cancel
	CallProject      // GET /projects/{projectKey}
	CallDelete       // DELETE /projects/{projectKey}, /projects/{projectKey}/repos/{repositorySlug}
	CallExport       // POST /migration/exports and its preview
)

// Errors of the protocol itself, which the model does not know: a server
// answers them from the same table as the model's.
var (
	// ErrNotAuthenticated is a request without credentials, or with a kind
	// the server does not accept.
	ErrNotAuthenticated = errors.New("authentication required")
	// ErrBadCredentials is a wrong user, password or token.
	ErrBadCredentials = errors.New("authentication failed")
	// ErrOverloaded is a request the server had no room for in time; the
	// client may try again after Retry-After.
	ErrOverloaded = errors.New("the server is busy")
	// ErrNoResource is a path the API does not have.
	ErrNoResource = errors.New("no such resource")
)

// The exceptionName values of Bitbucket's error JSON. The first five are
// Bitbucket's own; Bitbucket's names for the migration errors are not
// known, so bbimport names them in Bitbucket's manner (docs/rest.md).
const (
	ExceptionNoSuchProject     = "com.atlassian.bitbucket.project.NoSuchProjectException"
	ExceptionNoSuchRepository  = "com.atlassian.bitbucket.repository.NoSuchRepositoryException"
	ExceptionNoSuchPullRequest = "com.atlassian.bitbucket.pull.NoSuchPullRequestException"
	ExceptionIncorrectPassword = "com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException"
	ExceptionNotAuthorised     = "com.atlassian.bitbucket.AuthorisationException"

	ExceptionNoSuchJob       = "com.atlassian.bitbucket.migration.NoSuchJobException"
	ExceptionImportRunning   = "com.atlassian.bitbucket.migration.ConcurrentJobException"
	ExceptionJobFinished     = "com.atlassian.bitbucket.migration.JobAlreadyFinishedException"
	ExceptionInvalidArgument = "com.atlassian.bitbucket.validation.ArgumentValidationException"
)

type statusRule struct {
	err       error
	status    int
	context   string
	exception string
	calls     []Call
}

// statusRules is the table both sides read: the status (and, on a 400, the
// field) a server answers for each error, the exceptionName it names (empty
// for null), and the calls on which a client reads that status back as the
// error. Where one error wraps another, the wrapping one comes first.
var statusRules = []statusRule{
	{model.ErrBadArchivePath, http.StatusBadRequest, "archivePath", ExceptionInvalidArgument, []Call{CallStart}},
	// Bitbucket has no code of its own for a full disk: the request cannot
	// succeed as it stands, and the message says what to free. A client
	// cannot tell it from a bad path by the status alone.
	{model.ErrNotEnoughDisk, http.StatusBadRequest, "", "", []Call{CallExport}},
	{model.ErrJobNotFound, http.StatusNotFound, "", ExceptionNoSuchJob, []Call{CallJob, CallCancel}},
	{model.ErrNoSuchProject, http.StatusNotFound, "", ExceptionNoSuchProject, nil},
	{model.ErrNoSuchRepository, http.StatusNotFound, "", ExceptionNoSuchRepository, nil},
	{model.ErrNoSuchPullRequest, http.StatusNotFound, "", ExceptionNoSuchPullRequest, nil},
	{model.ErrNotFound, http.StatusNotFound, "", "", []Call{CallProject}},
	{model.ErrJobFinished, http.StatusConflict, "", ExceptionJobFinished, []Call{CallCancel}},
	{model.ErrNotEmpty, http.StatusConflict, "", "", []Call{CallDelete}},
	{model.ErrImportRunning, http.StatusServiceUnavailable, "", ExceptionImportRunning, []Call{CallStart}},
	{model.ErrExportsRunning, http.StatusServiceUnavailable, "", ExceptionImportRunning, []Call{CallExport}},
	// A selector that is malformed and one that matches nothing are both a
	// 400 on repositoriesRequest: a client reads it back as the second,
	// since it checks the form itself before it asks.
	{model.ErrBadSelector, http.StatusBadRequest, "repositoriesRequest", ExceptionInvalidArgument, nil},
	{model.ErrNoSuchSelection, http.StatusBadRequest, "repositoriesRequest", ExceptionInvalidArgument, []Call{CallExport}},
	{model.ErrBadExportLocation, http.StatusBadRequest, "exportLocation", ExceptionInvalidArgument, []Call{CallExport}},
	{ErrNotAuthenticated, http.StatusUnauthorized, "", ExceptionNotAuthorised, nil},
	{ErrBadCredentials, http.StatusUnauthorized, "", ExceptionIncorrectPassword, nil},
	{ErrOverloaded, http.StatusServiceUnavailable, "", "", nil},
	{ErrNoResource, http.StatusNotFound, "", "", nil},
}

// StatusOf is the status a server answers for err, and the field its
// error JSON names (empty for none). ok is false for an error that is none
// of the model's: a fault of the server's own.
func StatusOf(err error) (status int, context string, ok bool) {
	r, ok := ruleOf(err)
	return r.status, r.context, ok
}

// ErrorAnswer is the status and error JSON a server answers for err, with
// message as the error's text. ok is false for an error that is in no rule:
// a fault of the server's own.
func ErrorAnswer(err error, message string) (status int, body ErrorBody, ok bool) {
	r, ok := ruleOf(err)
	if !ok {
		return 0, ErrorBody{}, false
	}
	body = NewErrorBody(r.context, message)
	if r.exception != "" {
		body.Errors[0].ExceptionName = &r.exception
	}
	return r.status, body, true
}

func ruleOf(err error) (statusRule, bool) {
	for _, r := range statusRules {
		if errors.Is(err, r.err) {
			return r, true
		}
	}
	return statusRule{}, false
}

// ErrorOf is the model's error that status stands for on call, or nil.
func ErrorOf(call Call, status int) error {
	for _, r := range statusRules {
		if r.status == status && slices.Contains(r.calls, call) {
			return r.err
		}
	}
	return nil
}

// ErrorOfAnswer is the model's error that an error answer stands for on
// call, or nil: by the status and, where one status stands for several
// errors (an export's 400), by the field the answer's context names; an
// answer that names no field stands for the rule that names none.
func ErrorOfAnswer(call Call, status int, body ErrorBody) error {
	field := ""
	for _, e := range body.Errors {
		if e.Context != nil && *e.Context != "" {
			field = *e.Context
			break
		}
	}
	var first error
	for _, r := range statusRules {
		if r.status != status || !slices.Contains(r.calls, call) {
			continue
		}
		if r.context == field {
			return r.err
		}
		if first == nil {
			first = r.err
		}
	}
	return first
}
