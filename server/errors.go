package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"bbimport/wire"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	// The status is sent; a failed write means the client went away.
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers in Bitbucket's error shape. context names the
// offending field of a 400, or is empty (null in the JSON).
func writeError(w http.ResponseWriter, status int, context, message string) {
	writeJSON(w, status, wire.NewErrorBody(context, message))
}

// writeRuleError answers one of the errors of wire's table (the protocol's
// own, such as wire.ErrBadCredentials) with its status and exceptionName
// and message as the text.
func writeRuleError(w http.ResponseWriter, err error, message string) {
	status, body, ok := wire.ErrorAnswer(err, message)
	if !ok { // a rule missing from wire's table: still Bitbucket's shape
		status, body = http.StatusInternalServerError, wire.NewErrorBody("", message)
	}
	writeJSON(w, status, body)
}

// writeBackendError answers the backend's errors with the status and
// exceptionName wire's table gives them. Anything else is a fault of ours:
// logged in full, answered 500 without detail.
func (s *Server) writeBackendError(w http.ResponseWriter, r *http.Request, err error) {
	if status, body, ok := wire.ErrorAnswer(err, sentence(err)); ok {
		writeJSON(w, status, body)
		return
	}
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // the client hung up; nobody reads the answer
	}
	s.log.Error("request failed", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
	writeError(w, http.StatusInternalServerError, "", "The server failed to handle the request; its log has the details.")
}

// writeBadRequest answers a request wire could not read with a 400 that
// names the parameter at fault.
func writeBadRequest(w http.ResponseWriter, err error) {
	var field string
	if fe := (*wire.FieldError)(nil); errors.As(err, &fe) {
		field = fe.Field
	}
	writeError(w, http.StatusBadRequest, field, sentence(err))
}

// sentence makes an error message read as Bitbucket's do: capitalised,
// ending with a full stop.
func sentence(err error) string {
	msg := err.Error()
	if msg == "" {
		return msg
	}
	if c := msg[0]; c >= 'a' && c <= 'z' {
		msg = string(c-'a'+'A') + msg[1:]
	}
	switch msg[len(msg)-1] {
	case '.', '!', '?':
		return msg
	}
	return msg + "."
}
