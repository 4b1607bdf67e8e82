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
)

// Credentials is the one admin account the server accepts.
type Credentials struct {
	User     string
	Password string
}

var errNoAdmin = errors.New("no admin account: set BBIMPORT_ADMIN_USER and BBIMPORT_ADMIN_PASSWORD, or pass --credentials FILE holding a user:password line")

// LoadCredentials reads the admin account from file (one "user:password"
// line; the password may hold colons) or, when file is empty, from
// BBIMPORT_ADMIN_USER and BBIMPORT_ADMIN_PASSWORD as getenv returns them.
// A file others can read is refused: it holds an admin password.
func LoadCredentials(file string, getenv func(string) string) (Credentials, error) {
	if file == "" {
		c := Credentials{User: getenv("BBIMPORT_ADMIN_USER"), Password: getenv("BBIMPORT_ADMIN_PASSWORD")}
		if c.User == "" || c.Password == "" {
			return Credentials{}, errNoAdmin
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
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		user, password, ok := strings.Cut(line, ":")
		if !ok || user == "" || password == "" {
			return Credentials{}, fmt.Errorf("credentials file %s: the first line must be user:password", file)
		}
		return Credentials{User: user, Password: password}, nil
	}
	if err := sc.Err(); err != nil {
		return Credentials{}, fmt.Errorf("read credentials %s: %w", file, err)
	}
	return Credentials{}, fmt.Errorf("credentials file %s is empty; write one user:password line", file)
}

// authorized checks HTTP Basic credentials and answers 401 itself when they
// are wrong. Both sides are hashed first so that the comparison takes the
// same time whatever their lengths.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	user, password, ok := r.BasicAuth()
	if !ok {
		msg := "Authentication required: send the admin's user and password with HTTP Basic."
		if strings.HasPrefix(strings.ToLower(r.Header.Get("Authorization")), "bearer ") {
			msg = "Access tokens are not accepted on admin endpoints; send the admin's user and password with HTTP Basic."
		}
		writeError(w, http.StatusUnauthorized, "", msg)
		return false
	}
	userOK := equal(user, s.admin.User)
	passwordOK := equal(password, s.admin.Password)
	if !userOK || !passwordOK {
		writeError(w, http.StatusUnauthorized, "", "Authentication failed. Please check your credentials and try again.")
		return false
	}
	return true
}

func equal(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// initiator is the job's initiator: the one admin account.
func (s *Server) initiator() model.User {
	return model.User{Name: s.admin.User, ID: 1, Slug: s.admin.User, DisplayName: s.admin.User, Active: true, Type: model.UserTypeNormal}
}
