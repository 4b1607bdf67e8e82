// Package server serves the importer through Bitbucket Data Center's
// migration REST API: the same paths, methods, status codes, JSON and
// paging, so that Atlassian's curl commands and our own client work against
// it unchanged.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"bbimport/model"
	"bbimport/wire"
)

// Importer is what the server needs of the in-process importer.
type Importer interface {
	model.Backend
	Reader
	model.Placer
	model.ArchiveRecorder
	model.Deleter
	// Shutdown refuses new imports, asks a running one to stop at its next
	// checkpoint and waits for it.
	Shutdown(ctx context.Context) error
}

// DisplayName is what GET /application-properties calls the server. It is
// not "Bitbucket" so that a client shows the admin what is really on the
// other end; the version beside it is that of the Bitbucket release whose
// REST API the server follows (wire.BitbucketVersion), as clients that
// switch on the version expect.
const DisplayName = "bbimport"

// Limits of a request: bodies are tiny JSON objects, and a client too slow
// to send its headers holds a connection for nobody's good.
const (
	maxBodyBytes      = 64 << 10
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 2 * time.Minute
)

// Config is what New needs.
type Config struct {
	Importer Importer
	Admin    Credentials
	// Version is bbimport's own version, which the log names when serving
	// starts; /application-properties reports wire.BitbucketVersion.
	Version string
	// TLSCert and TLSKey are PEM files; both empty means plain HTTP.
	TLSCert, TLSKey string
	Log             *slog.Logger
}

// Server is the REST server. It is an http.Handler.
type Server struct {
	imp      Importer
	admin    Credentials
	props    wire.ApplicationProperties
	tls      *tls.Config
	log      *slog.Logger
	mux      *http.ServeMux
	draining atomic.Bool
	version  string

	slots    chan struct{} // one per request in flight
	inFlight atomic.Int64
	requests atomic.Uint64
}

// New checks the configuration (the TLS pair loads, an admin account is set)
// and builds the routes.
func New(cfg Config) (*Server, error) {
	if cfg.Importer == nil {
		return nil, errors.New("server: no importer")
	}
	if cfg.Admin.User == "" || cfg.Admin.Password == "" {
		return nil, errNoAdmin
	}
	s := &Server{
		imp:   cfg.Importer,
		admin: cfg.Admin,
		props: wire.ApplicationProperties{
			Version:     wire.BitbucketVersion,
			BuildNumber: wire.BitbucketBuildNumber,
			BuildDate:   wire.BitbucketBuildDate,
			DisplayName: DisplayName,
		},
		version: cfg.Version,
		log:     cfg.Log,
		mux:     http.NewServeMux(),
		slots:   make(chan struct{}, maxInFlight),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return nil, errors.New("give both --tls-cert and --tls-key, or neither")
	}
	if cfg.TLSCert != "" {
		pair, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("load TLS certificate %s and key %s: %w", cfg.TLSCert, cfg.TLSKey, err)
		}
		s.tls = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	}
	s.routes()
	return s, nil
}

// methods maps an HTTP method to its handler on one path.
type methods map[string]http.HandlerFunc

func (s *Server) routes() {
	for _, base := range wire.Prefixes {
		s.route(base+wire.PathApplicationProperties, false, methods{http.MethodGet: s.applicationProperties})

		s.route(base+wire.PathImports, true, methods{http.MethodPost: s.startImport})
		s.route(base+wire.PathImport, true, methods{http.MethodGet: s.job})
		s.route(base+wire.PathImportCancel, true, methods{http.MethodPost: s.cancel})
		s.route(base+wire.PathImportMessages, true, methods{http.MethodGet: s.messages})

		s.route(base+wire.PathExports, true, methods{http.MethodPost: s.startExport})
		s.route(base+wire.PathExportPreview, true, methods{http.MethodPost: s.previewExport})
		s.route(base+wire.PathExport, true, methods{http.MethodGet: s.exportStatus})
		s.route(base+wire.PathExportCancel, true, methods{http.MethodPost: s.exportCancel})
		s.route(base+wire.PathExportMessages, true, methods{http.MethodGet: s.exportMessages})

		// The read API, as client libraries call it: with or without a
		// trailing slash ({$} matches the slash alone, not a subtree).
		for path, h := range map[string]http.HandlerFunc{
			wire.PathProjects:      s.projects,
			wire.PathProject:       s.project,
			wire.PathRepos:         s.repositories,
			wire.PathRepo:          s.repository,
			wire.PathPullRequests:  s.pullRequests,
			wire.PathPullRequest:   s.pullRequest,
			wire.PathActivities:    s.activities,
			wire.PathBranches:      s.branches,
			wire.PathDefaultBranch: s.defaultBranch,
			wire.PathTags:          s.tags,
			wire.PathUserRepos:     s.userRepositories,
			wire.PathAllRepos:      s.allRepositories,
		} {
			ms := func() methods {
				m := methods{http.MethodGet: h}
				// Deletes as Bitbucket answers them (admin only, as every
				// call here): a repository 202, an empty project 204.
				switch path {
				case wire.PathRepo:
					m[http.MethodDelete] = s.deleteRepository
				case wire.PathProject:
					m[http.MethodDelete] = s.deleteProject
				}
				return m
			}
			s.route(base+path, true, ms())
			s.route(base+path+"/{$}", true, ms())
		}
	}
	s.route(wire.ExtensionPrefix+wire.PathExtImports, true, methods{http.MethodGet: s.extJobs})
	s.route(wire.ExtensionPrefix+wire.PathExtImport, true, methods{http.MethodGet: s.extJob})
	s.route(wire.ExtensionPrefix+wire.PathPlacements, true, methods{http.MethodGet: s.placements})
	s.route(wire.ExtensionPrefix+wire.PathExports, true, methods{http.MethodPost: s.extStartExport})
	s.route(wire.ExtensionPrefix+wire.PathExportPreview, true, methods{http.MethodPost: s.previewCounts})
	s.route(wire.ExtensionPrefix+wire.PathArchives, true, methods{http.MethodGet: s.archives})
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "", fmt.Sprintf("No resource at %s.", r.URL.Path))
	})
}

// route registers one path without a method in the pattern and dispatches
// on the method itself: ServeMux's own 405 answer is plain text, and
// Bitbucket answers with its error JSON and an Allow header.
func (s *Server) route(path string, auth bool, m methods) {
	if h, ok := m[http.MethodGet]; ok {
		m[http.MethodHead] = h
	}
	allowed := make([]string, 0, len(m))
	for method := range m {
		allowed = append(allowed, method)
	}
	sort.Strings(allowed)
	allow := strings.Join(allowed, ", ")
	s.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		if auth && !s.authorized(w, r) {
			return
		}
		h, ok := m[r.Method]
		if !ok {
			w.Header().Set("Allow", allow)
			writeError(w, http.StatusMethodNotAllowed, "",
				fmt.Sprintf("Method %s is not supported on this resource; use %s.", r.Method, allow))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		h(w, r)
	})
}

// ServeHTTP makes the server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handle(w, r) }

// Serve answers on ln until ctx is done, then shuts down in the order an
// admin expects of SIGTERM: new imports are refused with 503 at once, a
// running import stops at its next checkpoint while clients can still poll
// it, and only then does the listener close. shutdownTimeout bounds the
// wait for in-flight requests after the import has stopped.
func (s *Server) Serve(ctx context.Context, ln net.Listener, shutdownTimeout time.Duration) error {
	hs := &http.Server{
		Handler:           s,
		TLSConfig:         s.tls,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    hardHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.log.Info("bbimport serving the REST API of Bitbucket "+wire.BitbucketVersion, slog.String("version", s.version))
	served := make(chan error, 1)
	go func() {
		if s.tls != nil {
			served <- hs.ServeTLS(ln, "", "")
		} else {
			served <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-served:
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}

	s.log.Info("shutting down: refusing new imports, waiting for a running import to reach its checkpoint")
	s.draining.Store(true)
	var errs []error
	if err := s.imp.Shutdown(context.WithoutCancel(ctx)); err != nil {
		errs = append(errs, fmt.Errorf("stop the importer: %w", err))
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		errs = append(errs, fmt.Errorf("close the listener: %w", err))
	}
	return errors.Join(errs...)
}

// Drain makes the server refuse new imports with 503, as it does once
// Serve's context is done.
func (s *Server) Drain() { s.draining.Store(true) }

func (s *Server) applicationProperties(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.props)
}
