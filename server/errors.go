package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"bbimport/model"
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
	e := model.APIError{Message: message}
	if context != "" {
		e.Context = &context
	}
	writeJSON(w, status, model.ErrorBody{Errors: []model.APIError{e}})
}

// writeBackendError maps the backend's sentinel errors to Bitbucket's
// codes. Anything else is a fault of ours: logged in full, answered 500
// without detail.
func (s *Server) writeBackendError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, model.ErrBadArchivePath):
		writeError(w, http.StatusBadRequest, "archivePath", sentence(err))
	case errors.Is(err, model.ErrNotEnoughDisk):
		// Bitbucket has no code of its own for this; the request cannot
		// succeed as it stands, and the message says what to free.
		writeError(w, http.StatusBadRequest, "", sentence(err))
	case errors.Is(err, model.ErrJobNotFound), errors.Is(err, model.ErrNotFound):
		writeError(w, http.StatusNotFound, "", sentence(err))
	case errors.Is(err, model.ErrJobFinished):
		writeError(w, http.StatusConflict, "", sentence(err))
	case errors.Is(err, model.ErrImportRunning):
		writeError(w, http.StatusServiceUnavailable, "", sentence(err))
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client hung up; nobody reads the answer.
	default:
		s.log.Error("request failed", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
		writeError(w, http.StatusInternalServerError, "", "The server failed to handle the request; its log has the details.")
	}
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
