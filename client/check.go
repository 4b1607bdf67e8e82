package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"bbimport/model"
	"bbimport/wire"
)

// ErrCredentials is what Check returns, wrapped in its sentence, when the
// server refuses the user and password (or token): a console on a terminal
// can then ask for them again.
var ErrCredentials = errors.New("credentials refused")

// ErrNotAdmin is what Check returns, wrapped, when the credentials are
// good but the user lacks global ADMIN, which the migration API needs.
var ErrNotAdmin = errors.New("not a global admin")

// noRetry marks a call's context so that a failure is not tried again:
// the first look at a server should say at once what is wrong.
type noRetry struct{}

func once(ctx context.Context) context.Context { return context.WithValue(ctx, noRetry{}, true) }

// Check makes sure, before anything else, that the base URL reaches a
// Bitbucket (or bbimport serve) and that it accepts the credentials on an
// admin call: Reach, then SignIn.
func (c *Client) Check(ctx context.Context) (wire.ApplicationProperties, error) {
	p, err := c.Reach(ctx)
	if err != nil {
		return p, err
	}
	return p, c.SignIn(ctx)
}

// Reach makes sure the base URL reaches a Bitbucket or bbimport serve,
// before any credentials are asked for. Each way of failing is its own
// sentence: no host of that name, nothing listening, no connection in
// time, the wrong scheme, a wrong context path, something other than
// Bitbucket.
func (c *Client) Reach(ctx context.Context) (wire.ApplicationProperties, error) {
	return c.properties(once(ctx))
}

// SignIn makes sure the server accepts the credentials on an admin call,
// saying whether they are wrong or lack global ADMIN, and learns whether
// the server has bbimport's own namespace.
func (c *Client) SignIn(ctx context.Context) error {
	ctx = once(ctx)
	if err := c.checkAdmin(ctx); err != nil {
		return err
	}
	c.probeExtension(ctx)
	return nil
}

// SetCredentials replaces the user and password, or the token, that the
// calls send: a console asks for a password again when SignIn says it is
// wrong.
func (c *Client) SetCredentials(user, password, token string) error {
	if password != "" && token != "" {
		return errors.New("give a password or a token, not both")
	}
	c.user, c.token = user, token != ""
	switch {
	case token != "":
		c.http.SetAuthToken(token)
	case user != "":
		c.http.SetBasicAuth(user, password)
	}
	return nil
}

// properties reads GET /application-properties, which needs no admin:
// it tells a wrong URL from wrong credentials.
func (c *Client) properties(ctx context.Context) (wire.ApplicationProperties, error) {
	var p wire.ApplicationProperties
	resp, err := c.http.R().SetContext(ctx).Execute(http.MethodGet, c.api+wire.PathApplicationProperties)
	op := operation{what: "reach " + c.base}
	if err != nil {
		return p, c.transportError(op, err)
	}
	switch status := resp.StatusCode(); {
	case status == http.StatusNotFound:
		return p, &Error{Status: status, sentence: c.base + " answers, but not as Bitbucket: " + wire.Prefix + wire.PathApplicationProperties +
			" is not found there (" + statusText(status) + "); " + c.pathHint()}
	case status == http.StatusBadRequest && strings.Contains(string(resp.Body()), "HTTP request to an HTTPS server"):
		return p, &Error{Status: status, sentence: c.base + ": this server speaks https: use " + withScheme(c.base, "https")}
	case status == http.StatusUnauthorized:
		// Bitbucket refuses wrong credentials on any call: the admin
		// call below says which sentence fits.
		p.DisplayName = "Bitbucket"
		return p, nil
	case status >= 300:
		return p, c.statusError(op, resp)
	}
	if json.Unmarshal(resp.Body(), &p) != nil || p.Version == "" {
		return p, c.notBitbucket(op, resp)
	}
	return p, nil
}

// pathHint says what is wrong with a base URL that reached a web server
// with no Bitbucket under it.
func (c *Client) pathHint() string {
	u, err := url.Parse(c.base)
	if err != nil || u.Path == "" {
		return "check --url: it must be Bitbucket's base URL, with its context path if it has one (https://host/bitbucket)"
	}
	return fmt.Sprintf("the context path %s looks wrong: give Bitbucket's base URL as its administrators see it (Administration > Server settings > Base URL)", u.Path)
}

// withScheme is base with another scheme.
func withScheme(base, scheme string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	u.Scheme = scheme
	return u.String()
}

// probeJob is the job the admin check asks for: any answer but 401 or 403
// (a job, or "no such job") proves the credentials are an admin's.
const probeJob = 0

// checkAdmin asks for a job, which needs global ADMIN. Bitbucket answers
// 401 both for bad credentials and for too little permission: a call any
// signed-in user may make tells them apart.
func (c *Client) checkAdmin(ctx context.Context) error {
	var job model.Job
	err := c.call(ctx, operation{what: "sign in to " + c.base, kind: wire.CallJob}, http.MethodGet, wire.ImportPath(probeJob), nil, &job)
	var e *Error
	switch {
	case err == nil || errors.Is(err, model.ErrJobNotFound):
		return nil
	case !errors.As(err, &e):
		return err
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
	case e.Status >= 400 && e.Status < 500 && len(e.Messages) > 0:
		// Bitbucket's own error JSON about the job asked for (an id it
		// does not take): the call got past the admin check.
		return nil
	default:
		return err
	}
	who := "user " + c.user
	if c.token {
		return &Error{Status: e.Status, sentence: c.base + " refused the access token: " + hintToken, cause: ErrCredentials}
	}
	var page model.Page[model.User]
	if c.call(ctx, operation{what: "sign in to " + c.base}, http.MethodGet, wire.PathUsers+"?"+wire.PagingValues(0, 1).Encode(), nil, &page) == nil {
		return &Error{Status: e.Status, sentence: fmt.Sprintf("%s signs in to %s but is not a global admin: the migration API needs global ADMIN permission; use an admin's account", who, c.base), cause: ErrNotAdmin}
	}
	return &Error{Status: e.Status, sentence: fmt.Sprintf("%s refused the password of %s (%s): check the user and password", c.base, who, statusText(e.Status)), cause: ErrCredentials}
}

// probeExtension learns whether the server has bbimport's own namespace
// (bbimport serve does, Bitbucket answers 404): the job list, counts and
// archive names come from there when it does.
func (c *Client) probeExtension(ctx context.Context) bool {
	c.extMu.Lock()
	defer c.extMu.Unlock()
	if c.extKnown {
		return c.ext
	}
	// A page has values: a catch-all that answers any path with some
	// other JSON is no namespace of ours.
	var page struct {
		Values *[]json.RawMessage `json:"values"`
	}
	err := c.callURL(ctx, operation{what: "look for bbimport's namespace"}, http.MethodGet,
		c.base+wire.ExtensionPrefix+wire.PathExtImports+"?"+wire.PagingValues(0, 1).Encode(), nil, &page)
	var e *Error
	if err == nil || errors.As(err, &e) && e.Status != 0 {
		// An answer, either way; a network failure leaves it for the
		// next call to learn.
		c.ext, c.extKnown = err == nil && page.Values != nil, true
	}
	return c.ext
}
