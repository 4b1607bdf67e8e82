package server

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"bbimport/model"
	"bbimport/wire"
)

// Credentials is the one admin account the server accepts: HTTP Basic with
// User and Password, or, when Token is set, an HTTP access token sent as
// "Authorization: Bearer <token>".
type Credentials struct {
	User     string
	Password string
	Token    string
}

var errNoAdmin = errors.New("no admin account: set BBIMPORT_ADMIN_USER and BBIMPORT_ADMIN_PASSWORD, or pass --credentials FILE holding a user:password line")

// tokenKey starts the credentials file's optional token line.
const tokenKey = "token="

// LoadCredentials reads the admin account from file (one "user:password"
// line, the password may hold colons, and optionally a "token=<token>"
// line) or, when file is empty, from BBIMPORT_ADMIN_USER,
// BBIMPORT_ADMIN_PASSWORD and the optional BBIMPORT_ADMIN_TOKEN as getenv
// returns them. A file others can read is refused: it holds an admin
// password.
func LoadCredentials(file string, getenv func(string) string) (Credentials, error) {
	if file == "" {
		c := Credentials{User: getenv("BBIMPORT_ADMIN_USER"), Password: getenv("BBIMPORT_ADMIN_PASSWORD"), Token: getenv("BBIMPORT_ADMIN_TOKEN")}
		if c.User == "" || c.Password == "" {
			return Credentials{}, errNoAdmin
		}
		if err := checkToken(c.Token); err != nil {
			return Credentials{}, fmt.Errorf("BBIMPORT_ADMIN_TOKEN %w", err)
		}
		return c, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return Credentials{}, fmt.Errorf("read credentials: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Credentials{}, fmt.Errorf("read credentials: %w", err)
	}
	if fi.Mode().Perm()&0o007 != 0 {
		return Credentials{}, fmt.Errorf("credentials file %s can be read by any user (mode %v); run chmod 600 %s", file, fi.Mode().Perm(), file)
	}
	var c Credentials
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, tokenKey):
			c.Token = strings.TrimPrefix(line, tokenKey)
			if err := checkToken(c.Token); err != nil {
				return Credentials{}, fmt.Errorf("credentials file %s: the token %w", file, err)
			}
		case c.User == "":
			user, password, ok := strings.Cut(line, ":")
			if !ok || user == "" || password == "" {
				return Credentials{}, fmt.Errorf("credentials file %s: the first line must be user:password", file)
			}
			c.User, c.Password = user, password
		default:
			return Credentials{}, fmt.Errorf("credentials file %s: a line after user:password is neither token=<token> nor a # comment", file)
		}
	}
	if err := sc.Err(); err != nil {
		return Credentials{}, fmt.Errorf("read credentials %s: %w", file, err)
	}
	if c.User == "" {
		return Credentials{}, fmt.Errorf("credentials file %s holds no user:password line; write one", file)
	}
	return c, nil
}

// checkToken refuses a token that could not travel in a header intact.
func checkToken(token string) error {
	if strings.ContainsFunc(token, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return errors.New("holds spaces or control characters; use the token as Bitbucket or your generator gave it")
	}
	return nil
}

// challenge is the WWW-Authenticate of every 401, as Bitbucket sends it:
// without it wget and curl --anyauth never send the credentials they hold.
const challenge = `Basic realm="Bitbucket"`

// authorized checks the credentials, HTTP Basic or a bearer token, and
// answers 401 itself when they are wrong. Both sides are hashed first so
// that the comparison takes the same time whatever their lengths.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	if token, ok := bearer(r); ok {
		switch {
		case s.admin.Token == "":
			refuse(w, wire.ErrNotAuthenticated, "Access tokens are not accepted by this server (it has no BBIMPORT_ADMIN_TOKEN); send the admin's user and password with HTTP Basic.")
			return false
		case !equal(token, s.admin.Token):
			refuse(w, wire.ErrBadCredentials, "Authentication failed. Please check your credentials and try again.")
			return false
		}
		return true
	}
	user, password, ok := r.BasicAuth()
	if !ok {
		refuse(w, wire.ErrNotAuthenticated, "Authentication required: send the admin's user and password with HTTP Basic, or an access token as Bearer.")
		return false
	}
	userOK := equal(user, s.admin.User)
	passwordOK := equal(password, s.admin.Password)
	if !userOK || !passwordOK {
		refuse(w, wire.ErrBadCredentials, "Authentication failed. Please check your credentials and try again.")
		return false
	}
	return true
}

// bearer is the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}

func refuse(w http.ResponseWriter, err error, message string) {
	w.Header().Set("WWW-Authenticate", challenge)
	writeRuleError(w, err, message)
}

func equal(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// initiator is the job's initiator: the one admin account.
func (s *Server) initiator() model.User {
	return model.User{Name: s.admin.User, ID: 1, Slug: s.admin.User, DisplayName: s.admin.User, Active: true, Type: model.UserTypeNormal}
}
