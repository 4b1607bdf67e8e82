package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"syscall"

	"github.com/go-resty/resty/v2"

	"bbimport/model"
	"bbimport/wire"
)

// operation names a call for the admin ("cancel import job 3").
type operation struct {
	what string
	kind wire.Call // which of the model's errors a status stands for
	// notFound is what a 404 means on a read call whose answer names no
	// exception the model knows: the project, repository or pull request
	// the call asked for.
	notFound error
}

// Error is a failed call. Its message is one sentence: what failed, the
// server's own words, the status, and what to do. errors.Is finds the
// model's sentinels (ErrJobNotFound, ErrImportRunning, ErrJobFinished,
// ErrBadArchivePath, ErrNotFound) when Bitbucket itself gave the status.
type Error struct {
	// Status is the HTTP status, 0 when no answer came.
	Status int
	// Messages are the messages of Bitbucket's error JSON, if it sent one.
	Messages []string
	sentence string
	cause    error
}

func (e *Error) Error() string { return e.sentence }
func (e *Error) Unwrap() error { return e.cause }

const (
	hintCredentials = "check the user and password; the user needs global ADMIN"
	hintToken       = "the server refused the access token: current Bitbucket versions refuse tokens on the admin endpoints of the migration API, so use --user with a password (BITBUCKET_PASSWORD, ~/.netrc or the prompt) instead"
	hintMayHaveRun  = "the server may have started the import, but its job id never came back, so `bbimport jobs` cannot list it; before starting again, try `bbimport status` with the ids after the newest one `bbimport jobs` shows"
	hintURL         = "check --url: it must be Bitbucket's base URL, with its context path if it has one (https://host/bitbucket)"
)

// causeHints say what to do about each of the model's errors a status
// stands for; a project that is not there needs nothing done.
var causeHints = map[error]string{
	model.ErrBadArchivePath:    "the archive path must name a regular file inside the server's import directory ($BITBUCKET_HOME/shared/data/migration/import), relative to it or absolute",
	model.ErrJobNotFound:       "check the job id with `bbimport jobs`",
	model.ErrJobFinished:       "the job has finished or is being canceled already, so there is nothing to cancel",
	model.ErrImportRunning:     "only one import runs at a time; wait for the running one to finish (see `bbimport jobs`), then start again",
	model.ErrNoSuchSelection:   "check the selectors: PRJ/slug, PRJ/* or */*, of projects and repositories the server has",
	model.ErrBadExportLocation: "--location must be a directory relative to the server's export directory ($BITBUCKET_HOME/shared/data/migration/export), inside it",
	model.ErrExportsRunning:    "a Bitbucket node runs two exports at a time; wait for one to finish (see `bbimport jobs`), then start again",
}

func (c *Client) statusError(op operation, resp *resty.Response) error {
	status := resp.StatusCode()
	var body wire.ErrorBody
	if json.Unmarshal(resp.Body(), &body) != nil || len(body.Errors) == 0 {
		return c.notBitbucket(op, resp)
	}
	msgs := make([]string, 0, len(body.Errors))
	for _, e := range body.Errors {
		if m := strings.TrimRight(strings.TrimSpace(e.Message), "."); m != "" {
			msgs = append(msgs, m)
		}
	}
	cause := causeOf(op, status, body)
	if op.kind == wire.CallExport && status == http.StatusBadRequest && !errors.Is(cause, model.ErrBadExportLocation) &&
		!c.probeExtension(resp.Request.Context()) {
		// Bitbucket checks no disk before an export and its 400 need not
		// name the field: it refuses the selection.
		cause = model.ErrNoSuchSelection
	}
	if errors.Is(cause, model.ErrNotEnoughDisk) && op.kind == wire.CallExport {
		// serve's refusal of an export beyond its free disk: its figures
		// come in its words only, and what to do is the caller's to say
		// (the command's --force).
		cause = &model.NotEnoughDiskError{Need: model.Unknown, Free: model.Unknown}
	}
	var hint string
	switch {
	case status == http.StatusUnauthorized && c.token:
		hint = hintToken
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		hint = hintCredentials
	case (errors.Is(cause, model.ErrBadArchivePath) || op.kind == wire.CallExport) && c.probeExtension(resp.Request.Context()):
		// bbimport serve's refusal of a start is a sentence that says why
		// and what to do (a file cut short or still being copied is inside
		// the directory): the general rule would mislead or repeat it.
	case cause != nil:
		hint = causeHints[cause]
	case status == http.StatusNotFound:
		hint = hintURL
	case status == http.StatusMethodNotAllowed || status == http.StatusUnsupportedMediaType || status == http.StatusNotImplemented:
		hint = "the server does not offer this call; check that --url is a Bitbucket Data Center with the migration API, or bbimport serve"
	case status >= 500:
		hint = "the server failed; check its log (atlassian-bitbucket.log on Bitbucket), then try again"
	}
	text := strings.Join(msgs, "; ")
	if text == "" {
		text = "no message"
	}
	return &Error{
		Status:   status,
		Messages: msgs,
		sentence: op.what + ": " + text + " (" + statusText(status) + ")" + prefixed(hint),
		cause:    cause,
	}
}

// causeOf is the model's error that an error answer stands for on op, or
// nil: by the call and status first; then, on a 404, by the
// exceptionName (a repository call that finds no project says so), else
// by what the call asked for.
func causeOf(op operation, status int, body wire.ErrorBody) error {
	if cause := wire.ErrorOfAnswer(op.kind, status, body); cause != nil || status != http.StatusNotFound {
		return cause
	}
	for _, e := range body.Errors {
		if e.ExceptionName == nil {
			continue
		}
		if cause := wire.NotFoundOf(*e.ExceptionName); cause != nil {
			return cause
		}
	}
	return op.notFound
}

// notBitbucket words an answer that is not Bitbucket's JSON: a proxy's
// error page, a login page, an empty body.
func (c *Client) notBitbucket(op operation, resp *resty.Response) *Error {
	status := resp.StatusCode()
	var hint string
	switch {
	case status >= 500 && op.kind == wire.CallStart:
		hint = "a proxy in front of Bitbucket got no answer from it in time, so " + hintMayHaveRun
	case status >= 500:
		hint = "a proxy in front of Bitbucket could not get an answer from it; check that Bitbucket is running, then try again"
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		hint = "a proxy in front of Bitbucket refused the request; " + hintCredentials
	case status < 300:
		hint = "something other than Bitbucket answered (a login page or a proxy); " + hintURL
	case status < 400 && resp.Header().Get("Location") != "":
		hint = "it redirects to " + redirectBase(resp) + ": give that address as --url"
	default:
		hint = hintURL
	}
	return &Error{
		Status:   status,
		sentence: fmt.Sprintf("%s: the server answered %s with %s, not Bitbucket's JSON; %s", op.what, statusText(status), describeBody(resp), hint),
	}
}

func (c *Client) notJSON(op operation, resp *resty.Response, err error) error {
	e := c.notBitbucket(op, resp)
	e.cause = err
	return e
}

// redirectBase is the base URL a redirect points to: its Location without
// the REST path of the call.
func redirectBase(resp *resty.Response) string {
	loc := resp.Header().Get("Location")
	u, err := resp.RawResponse.Request.URL.Parse(loc)
	if err != nil {
		return loc
	}
	if i := strings.Index(u.Path, "/rest/api/"); i >= 0 {
		u.Path = u.Path[:i]
	}
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	return u.String()
}

var htmlTitle = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)

// describeBody names what came instead of JSON, with a short excerpt so the
// admin can recognise the proxy or page.
func describeBody(resp *resty.Response) string {
	body := strings.TrimSpace(string(resp.Body()))
	if body == "" {
		return "an empty answer"
	}
	if strings.Contains(strings.ToLower(resp.Header().Get("Content-Type")), "html") || strings.HasPrefix(body, "<") {
		if m := htmlTitle.FindStringSubmatch(body); m != nil {
			return fmt.Sprintf("an HTML page (%q)", excerpt(m[1]))
		}
		return "an HTML page"
	}
	return fmt.Sprintf("%q", excerpt(body))
}

func excerpt(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 80 {
		return string(r[:80]) + "…"
	}
	return s
}

// transportError words a call that got no answer. A POST that starts an
// import may have reached the server even so, unless the connection was
// never made.
func (c *Client) transportError(op operation, err error) error {
	host := c.base
	if u, perr := url.Parse(c.base); perr == nil {
		host = u.Host
	}
	var (
		hostnameErr x509.HostnameError
		opErr       *net.OpError
		dnsErr      *net.DNSError
		netErr      net.Error
	)
	var detail, hint string
	sent := true
	switch {
	case errors.Is(err, context.Canceled):
		return &Error{sentence: op.what + ": canceled", cause: err}
	case errors.As(err, &hostnameErr):
		detail, hint, sent = "the certificate of "+host+" does not name it", "use the host name the certificate names in --url", false
	case untrusted(err):
		detail = fmt.Sprintf("the certificate of %s is not trusted (%v)", host, innermost(err))
		hint = "pass --ca-file with the CA that signed it, or --insecure to skip the check (unsafe)"
		sent = false
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return &Error{sentence: op.what + ": this server speaks http: use " + withScheme(c.base, "http"), cause: err}
	case errors.As(err, &dnsErr):
		detail = fmt.Sprintf("no host named %s can be found (%v)", dnsErr.Name, dnsErr.Err)
		hint, sent = "check the host name in --url", false
	case errors.As(err, &opErr) && opErr.Op == "dial" && errors.Is(err, syscall.ECONNREFUSED):
		detail = "nothing is listening at " + host + " (connection refused)"
		hint, sent = "check the port in --url and that the server is running", false
	case errors.As(err, &opErr) && opErr.Op == "dial" && opErr.Timeout():
		detail = "no connection to " + host + " could be made in time"
		hint, sent = "check the host in --url, and that no firewall drops the traffic on the way", false
	case errors.As(err, &opErr) && opErr.Op == "dial":
		detail = fmt.Sprintf("cannot reach %s (%v)", host, innermost(err))
		hint = "check --url and that the server is running"
		sent = false
	case errors.Is(err, resty.ErrResponseBodyTooLarge):
		detail, hint = "the answer is larger than 16 MiB", hintURL
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		detail, hint = "no answer from "+host+" in time", "check that the server is running and not overloaded, then try again"
	default:
		detail, hint = fmt.Sprintf("the connection to %s broke (%v)", host, innermost(err)), "try again"
	}
	if sent && op.kind == wire.CallStart {
		hint = hintMayHaveRun
	}
	return &Error{sentence: op.what + ": " + detail + prefixed(hint), cause: err}
}

// untrusted reports whether err is a certificate the client does not trust.
func untrusted(err error) bool {
	var (
		certErr   *tls.CertificateVerificationError
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
	)
	return errors.As(err, &certErr) || errors.As(err, &unknownCA) || errors.As(err, &hostname)
}

// innermost drops the "Get "https://…": " layers that repeat the URL.
func innermost(err error) error {
	for {
		var u *url.Error
		if !errors.As(err, &u) {
			return err
		}
		err = u.Err
	}
}

func statusText(status int) string {
	if t := http.StatusText(status); t != "" {
		return fmt.Sprintf("HTTP %d %s", status, t)
	}
	return fmt.Sprintf("HTTP %d", status)
}

func prefixed(hint string) string {
	if hint == "" {
		return ""
	}
	return "; " + hint
}
