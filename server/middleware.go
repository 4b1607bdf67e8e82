package server

import (
	"context"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"bbimport/wire"
)

// Limits under load. Every request holds a database connection for a
// moment, a few goroutines and buffers: without a bound, 10,000 concurrent
// GETs opened 10,000 SQLite connections and failed with 500s. Past
// maxInFlight, a request waits up to queueWait for a slot and is then
// answered 503 with Retry-After, as Bitbucket answers when it is at its
// limit of concurrent requests.
const (
	maxInFlight = 64
	queueWait   = 2 * time.Second
	retryAfter  = "1" // seconds
)

// Header limits. Bitbucket answers an oversized header with its error JSON;
// net/http answers its own plain text once the header passes the server's
// MaxHeaderBytes, before any handler runs. So the server lets net/http read
// up to hardHeaderBytes and answers 431 itself from maxHeaderBytes on:
// only a header beyond the hard limit gets net/http's plain text.
const (
	maxHeaderBytes  = 64 << 10
	hardHeaderBytes = 256 << 10
)

// handle is what every request passes before the routes: the request id,
// the header limit, paths that are not clean, and the bound on requests
// in flight.
func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	inFlight := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	w.Header().Set("X-AREQUESTID", requestID(time.Now(), s.requests.Add(1), inFlight))

	if size := headerSize(r); size > maxHeaderBytes {
		writeError(w, http.StatusRequestHeaderFieldsTooLarge, "",
			fmt.Sprintf("The request's headers are %d bytes; the server accepts at most %d.", size, maxHeaderBytes))
		return
	}
	p, clean := cleanPath(r.URL.Path)
	if !clean {
		// Bitbucket answers such a path as one it does not have, to a user
		// it knows; Go's ServeMux would redirect it with an HTML body.
		if s.authorized(w, r) {
			writeRuleError(w, wire.ErrNoResource, fmt.Sprintf("No resource at %s.", r.URL.Path))
		}
		return
	}
	if p != r.URL.Path {
		r = r.Clone(r.Context())
		r.URL.Path = p
		r.URL.RawPath = strings.TrimSuffix(r.URL.RawPath, "/")
	}
	if !s.acquire(r.Context()) {
		if r.Context().Err() != nil {
			return // the client hung up while it waited
		}
		w.Header().Set("Retry-After", retryAfter)
		writeRuleError(w, wire.ErrOverloaded, "The server is handling as many requests as it can; try again in a second.")
		return
	}
	defer func() { <-s.slots }()
	s.mux.ServeHTTP(w, r)
}

// acquire takes a slot for one request, waiting up to queueWait.
func (s *Server) acquire(ctx context.Context) bool {
	select {
	case s.slots <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(queueWait)
	defer t.Stop()
	select {
	case s.slots <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

// requestID is an X-AREQUESTID in Bitbucket's shape: the minute of the day
// (UTC) the request arrived, the server's request counter, and the requests
// in flight at that moment. The counter makes it unique for the process.
func requestID(now time.Time, counter uint64, inFlight int64) string {
	now = now.UTC()
	return strconv.Itoa(now.Hour()*60+now.Minute()) + "x" + strconv.FormatUint(counter, 10) + "x" + strconv.FormatInt(inFlight, 10)
}

// headerSize counts the request line and headers as net/http's
// MaxHeaderBytes does, near enough: name, ": ", value and CRLF each.
func headerSize(r *http.Request) int {
	n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + 4
	for name, values := range r.Header {
		for _, v := range values {
			n += len(name) + len(v) + 4
		}
	}
	return n
}

// cleanPath drops one trailing slash, which Bitbucket accepts on every
// path, and reports whether what remains is clean: no empty, "." or ".."
// segment.
func cleanPath(p string) (string, bool) {
	if !strings.HasPrefix(p, "/") {
		return p, false
	}
	if len(p) > 1 {
		p = strings.TrimSuffix(p, "/")
	}
	return p, path.Clean(p) == p
}
