// Package client drives a Bitbucket Data Center's migration REST API, or
// `bbimport serve`, as a model.Backend: the console and the headless
// commands work the same against it as against the in-process importer.
package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-resty/resty/v2"

	"bbimport/model"
	"bbimport/wire"
)

// Config is what New needs. Password and Token are exclusive; with neither,
// only ApplicationProperties works.
type Config struct {
	// BaseURL is Bitbucket's base URL, with its context path if it has one
	// (https://host/bitbucket). A trailing /rest/api/1.0 is tolerated.
	BaseURL  string
	User     string
	Password string
	// Token is a personal access token, sent as a bearer token. Bitbucket
	// refuses tokens on its admin endpoints; the 401 then says so.
	Token string
	// CAFile is a PEM file of extra CA certificates to trust besides the
	// system's.
	CAFile string
	// Insecure skips verifying the server's certificate, with a warning.
	Insecure bool
	// Timeout bounds each HTTP attempt; 0 means 30 seconds.
	Timeout time.Duration
	// ConnectTimeout bounds making a connection, so that a host that
	// never answers (a firewall that drops packets) is named soon; 0
	// means 10 seconds.
	ConnectTimeout time.Duration
	// StateDir holds the file of jobs this client started; empty means
	// $XDG_STATE_HOME/bbimport, else ~/.local/state/bbimport.
	StateDir string
}

// Retries of idempotent GETs on network errors and 5xx answers.
const retries = 3

var (
	// retryWait is the first backoff; tests shorten it.
	retryWait = 300 * time.Millisecond
	// warnings receives what the admin must know but that is no error.
	warnings io.Writer = os.Stderr
)

// Client is a model.Backend over HTTP.
type Client struct {
	http  *resty.Client
	base  string // normalised base URL, no trailing slash
	api   string // base + wire.Prefix
	user  string
	token bool
	jobs  *jobStore

	// ext says whether the server has bbimport's own namespace, once
	// extKnown: Check or the first call that needs it finds out.
	extMu    sync.Mutex
	ext      bool
	extKnown bool

	// types are the jobs' types this client learnt: Bitbucket answers an
	// export's calls under /migration/exports, an import's under
	// /migration/imports.
	typesMu sync.Mutex
	types   map[int64]string
}

var _ model.Backend = (*Client)(nil)

// New checks the configuration and builds a client; it does not contact
// the server.
func New(cfg Config) (*Client, error) {
	base, err := normaliseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	// The insecure warning names the URL; a password left in it stays out.
	cfg.BaseURL = base
	tlsConfig, err := tlsConfigFor(cfg)
	if err != nil {
		return nil, err
	}
	stateDir := cfg.StateDir
	if stateDir == "" {
		if stateDir, err = defaultStateDir(); err != nil {
			return nil, err
		}
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	connect := cfg.ConnectTimeout
	if connect == 0 {
		connect = 10 * time.Second
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.DialContext = (&net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}).DialContext

	h := resty.New().
		SetTransport(transport).
		SetTimeout(timeout).
		SetTLSClientConfig(tlsConfig).
		SetLogger(quiet{}).
		SetHeader("Accept", "application/json").
		// Bitbucket's XSRF check refuses some POSTs without it.
		SetHeader("X-Atlassian-Token", "no-check").
		SetResponseBodyLimit(16 << 20).
		SetRetryCount(retries).
		SetRetryWaitTime(retryWait).
		SetRetryMaxWaitTime(5 * time.Second).
		// Go follows a 301, 302 or 303 with a GET: the POST that starts or
		// cancels an import would arrive as a GET (405 on Bitbucket). Such a
		// redirect comes back as the answer, whose sentence says where it
		// points; a GET still follows, as Go would, up to 10 times.
		SetRedirectPolicy(resty.RedirectPolicyFunc(func(req *http.Request, via []*http.Request) error {
			if req.Method != via[0].Method {
				return http.ErrUseLastResponse
			}
			if len(via) >= 10 {
				return errors.New("stopped after 10 redirects")
			}
			return nil
		})).
		AddRetryCondition(func(r *resty.Response, err error) bool {
			// Only a GET can be repeated without a second effect; an
			// untrusted certificate stays untrusted and a call that is not
			// implemented stays so.
			if r == nil || r.Request == nil || r.Request.Method != http.MethodGet || untrusted(err) ||
				r.Request.Context().Value(noRetry{}) != nil {
				return false
			}
			return err != nil || (r.StatusCode() >= 500 && r.StatusCode() != http.StatusNotImplemented)
		})
	c := &Client{
		http: h,
		base: base,
		api:  base + wire.Prefix,
		jobs: &jobStore{path: filepath.Join(stateDir, "jobs.json"), server: base},
	}
	if err := c.SetCredentials(cfg.User, cfg.Password, cfg.Token); err != nil {
		return nil, err
	}
	return c, nil
}

// normaliseBaseURL accepts a base URL with or without a context path and
// with or without the REST prefix an admin may paste from a curl command.
func normaliseBaseURL(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("no server URL: pass --url or set BITBUCKET_URL")
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("server URL %q is not an http:// or https:// URL such as https://bitbucket.example.com/bitbucket", raw)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	u.RawQuery, u.Fragment, u.User = "", "", nil
	p := strings.TrimRight(u.Path, "/")
	for _, suffix := range wire.Prefixes {
		p = strings.TrimSuffix(p, suffix)
	}
	u.Path, u.RawPath = p, ""
	return u.String(), nil
}

func tlsConfigFor(cfg Config) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", cfg.CAFile)
		}
		c.RootCAs = pool
	}
	if cfg.Insecure {
		c.InsecureSkipVerify = true
		fmt.Fprintf(warnings, "bbimport: warning: --insecure: the certificate of %s is not checked; anyone on the network path can read the password\n", cfg.BaseURL)
	}
	return c, nil
}

// quiet keeps resty from writing its own log lines to stderr: every
// failure reaches the admin once, as the sentence the call returns.
type quiet struct{}

func (quiet) Errorf(string, ...any) {}
func (quiet) Warnf(string, ...any)  {}
func (quiet) Debugf(string, ...any) {}

// BaseURL is the normalised base URL the client talks to.
func (c *Client) BaseURL() string { return c.base }

// call sends one request to a path of Bitbucket's REST API and decodes a
// 2xx JSON answer into out (if not nil). Any failure becomes an *Error
// whose message is one sentence.
func (c *Client) call(ctx context.Context, op operation, method, path string, body, out any) error {
	return c.callURL(ctx, op, method, c.api+path, body, out)
}

// callURL is call on a whole URL: bbimport's extension lives outside the
// API's prefix.
func (c *Client) callURL(ctx context.Context, op operation, method, target string, body, out any) error {
	r := c.http.R().SetContext(ctx)
	if method == http.MethodPost {
		// Even a POST without a body says JSON, as the import guide's
		// cancel does: a proxy may refuse a POST without a content type.
		r.SetHeader("Content-Type", "application/json")
	}
	if body != nil {
		r.SetBody(body)
	}
	resp, err := r.Execute(method, target)
	if err != nil {
		return c.transportError(op, err)
	}
	if resp.StatusCode() >= 300 {
		return c.statusError(op, resp)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(resp.Body(), out); err != nil {
		return c.notJSON(op, resp, err)
	}
	return nil
}

// ApplicationProperties says who and what answers at the base URL. It
// needs no credentials.
func (c *Client) ApplicationProperties(ctx context.Context) (wire.ApplicationProperties, error) {
	var p wire.ApplicationProperties
	err := c.call(ctx, operation{what: "read the server's application properties"}, http.MethodGet, wire.PathApplicationProperties, nil, &p)
	return p, err
}

// Identity describes the server for the console's header.
func (c *Client) Identity(ctx context.Context) (model.Identity, error) {
	p, err := c.ApplicationProperties(ctx)
	if err != nil {
		return model.Identity{}, err
	}
	return model.Identity{Remote: true, Location: c.base, Product: p.DisplayName, Version: p.Version, User: c.user,
		PartialJobs: !c.probeExtension(ctx)}, nil
}

// Start starts an import. The POST is never retried: a second one could
// start a second import once the first has finished.
//
// notes cannot travel: Bitbucket's start call takes the archive path only.
// The console keeps them in its own log of the job instead.
func (c *Client) Start(ctx context.Context, archivePath string, _ ...string) (model.Job, error) {
	var job model.Job
	op := operation{what: "start the import of " + archivePath, kind: wire.CallStart}
	body := wire.ImportRequest{ArchivePath: &archivePath}
	if err := c.call(ctx, op, http.MethodPost, wire.PathImports, body, &job); err != nil {
		if errors.Is(err, model.ErrImportRunning) {
			return model.Job{}, c.runningImport(ctx, op.what, err)
		}
		return model.Job{}, err
	}
	job.Archive = archivePath
	if job.Type == "" {
		job.Type = model.JobTypeImport
	}
	c.learnType(job.ID, job.Type)
	if err := c.jobs.add(jobRecord{ID: job.ID, Archive: archivePath, Type: job.Type, Started: time.Now().UTC()}); err != nil {
		fmt.Fprintf(warnings, "bbimport: warning: job %d started, but it will not be listed by `bbimport jobs`: %v\n", job.ID, err)
	}
	return job, nil
}

// Job returns a job's state: from bbimport's namespace, with its counts
// and archive name, when the server has it; else Bitbucket's job, with the
// archive name this client remembers if it started the job.
func (c *Client) Job(ctx context.Context, id int64) (model.Job, error) {
	var job model.Job
	if c.probeExtension(ctx) {
		op := operation{what: fmt.Sprintf("read job %d", id), kind: wire.CallJob}
		err := c.callURL(ctx, op, http.MethodGet, c.base+wire.ExtensionPrefix+wire.ExtImportPath(id), nil, &job)
		c.learnType(id, job.Type)
		return job, err
	}
	export, err := c.onJob(ctx, id, wire.CallJob, http.MethodGet, "read %s %d", func(export bool) string {
		if export {
			return wire.ExportPath(id)
		}
		return wire.ImportPath(id)
	}, &job)
	if err != nil {
		return job, err
	}
	if job.Type == "" && export {
		job.Type = model.JobTypeExport
	}
	c.learnType(id, job.Type)
	if rec, ok := c.jobs.find(id); ok {
		job.Archive = rec.Archive
	}
	return job, nil
}

// Messages returns one page of a job's messages.
func (c *Client) Messages(ctx context.Context, id int64, q model.MessageQuery) (model.Page[model.Message], error) {
	var page model.Page[model.Message]
	_, err := c.onJob(ctx, id, wire.CallJob, http.MethodGet, "read the messages of %s %d", func(export bool) string {
		if export {
			return wire.ExportMessagesPath(id, q)
		}
		return wire.ImportMessagesPath(id, q)
	}, &page)
	return page, err
}

// Cancel asks a job to stop: an import at its next checkpoint, an export
// at once. Like the import guide's curl, it sends a JSON content type and
// no body.
func (c *Client) Cancel(ctx context.Context, id int64) error {
	_, err := c.onJob(ctx, id, wire.CallCancel, http.MethodPost, "cancel %s %d", func(export bool) string {
		if export {
			return wire.ExportCancelPath(id)
		}
		return wire.ImportCancelPath(id)
	}, nil)
	return err
}

// StopNow cannot be asked of Bitbucket: its REST API only cancels at a
// checkpoint.
func (c *Client) StopNow(_ context.Context, id int64) error {
	return fmt.Errorf("stop import job %d at once: %w: Bitbucket stops an import only at its next checkpoint", id, model.ErrNotSupported)
}

// ProjectExists reports whether a project key is taken on the server.
func (c *Client) ProjectExists(ctx context.Context, key string) (bool, error) {
	var p model.RestProject
	op := operation{what: "look up project " + key, kind: wire.CallProject}
	err := c.call(ctx, op, http.MethodGet, wire.ProjectPath(key), nil, &p)
	if errors.Is(err, model.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
