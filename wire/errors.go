package wire

import (
	"errors"
	"net/http"

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
)

// statusRules is the table both sides read: the status (and, on a 400, the
// field) a server answers for each of the model's errors, and the calls on
// which a client reads that status back as the error.
var statusRules = []struct {
	err     error
	status  int
	context string
	calls   []Call
}{
	{model.ErrBadArchivePath, http.StatusBadRequest, "archivePath", []Call{CallStart}},
	// Bitbucket has no code of its own for a full disk: the request cannot
	// succeed as it stands, and the message says what to free. A client
	// cannot tell it from a bad path by the status alone.
	{model.ErrNotEnoughDisk, http.StatusBadRequest, "", nil},
	{model.ErrJobNotFound, http.StatusNotFound, "", []Call{CallJob, CallCancel}},
	{model.ErrNotFound, http.StatusNotFound, "", []Call{CallProject}},
	{model.ErrJobFinished, http.StatusConflict, "", []Call{CallCancel}},
	{model.ErrImportRunning, http.StatusServiceUnavailable, "", []Call{CallStart}},
}

// StatusOf is the status a server answers for err, and the field its
// error JSON names (empty for none). ok is false for an error that is none
// of the model's: a fault of the server's own.
func StatusOf(err error) (status int, context string, ok bool) {
	for _, r := range statusRules {
		if errors.Is(err, r.err) {
			return r.status, r.context, true
		}
	}
	return 0, "", false
}

// ErrorOf is the model's error that status stands for on call, or nil.
func ErrorOf(call Call, status int) error {
	for _, r := range statusRules {
		if r.status != status {
			continue
		}
		for _, c := range r.calls {
			if c == call {
				return r.err
			}
		}
	}
	return nil
}
