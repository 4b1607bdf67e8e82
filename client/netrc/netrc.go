// Package netrc reads a .netrc file as curl does, for the credentials of
// a remote Bitbucket.
package netrc

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// Entry is one `machine` (or, with an empty Machine, the `default`)
// entry of a netrc file.
type Entry struct {
	Machine  string
	Login    string
	Password string
}

// Parse reads the entries of a netrc file in their order. It never fails:
// like curl, it skips what it does not understand.
func Parse(s string) []Entry {
	var (
		entries []Entry
		cur     *Entry
	)
	tokens := tokenize(s)
	for i := 0; i < len(tokens); i++ {
		next := func() string {
			if i+1 < len(tokens) {
				i++
				return tokens[i]
			}
			return ""
		}
		switch tokens[i] {
		case "machine":
			entries = append(entries, Entry{Machine: next()})
			cur = &entries[len(entries)-1]
		case "default":
			entries = append(entries, Entry{})
			cur = &entries[len(entries)-1]
		case "login":
			if v := next(); cur != nil {
				cur.Login = v
			}
		case "password":
			if v := next(); cur != nil {
				cur.Password = v
			}
		case "account":
			next()
		}
	}
	return entries
}

// Lookup finds the login and password for host as curl does: the first
// `machine` entry for the host (whose login is user, when user is given),
// else `default`. The login is user when the entry names none.
func Lookup(entries []Entry, host, user string) (login, password string, ok bool) {
	for _, want := range []string{host, ""} {
		for _, e := range entries {
			if !strings.EqualFold(e.Machine, want) || (user != "" && e.Login != user) {
				continue
			}
			login = e.Login
			if login == "" {
				login = user
			}
			return login, e.Password, true
		}
	}
	return "", "", false
}

// LookupFile is Lookup on the netrc file at path. A missing file is no
// error: it holds no credentials.
func LookupFile(path, host, user string) (login, password string, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("read %s: %w", path, err)
	}
	login, password, _ = Lookup(Parse(string(b)), host, user)
	return login, password, nil
}

// tokenize splits a netrc file into words: double quotes may hold spaces
// and backslash escapes, as curl allows; macdef bodies (up to an empty
// line) are skipped.
func tokenize(s string) []string {
	var tokens []string
	lines := strings.Split(s, "\n")
	for li := 0; li < len(lines); li++ {
		line := lines[li]
		for j := 0; j < len(line); {
			c := line[j]
			switch {
			case c == ' ' || c == '\t' || c == '\r':
				j++
			case c == '#' && (j == 0 || line[j-1] == ' ' || line[j-1] == '\t'):
				j = len(line)
			case c == '"':
				var w strings.Builder
				j++
				for ; j < len(line) && line[j] != '"'; j++ {
					if line[j] == '\\' && j+1 < len(line) {
						j++
					}
					w.WriteByte(line[j])
				}
				j++
				tokens = append(tokens, w.String())
			default:
				k := j
				for k < len(line) && line[k] != ' ' && line[k] != '\t' && line[k] != '\r' {
					k++
				}
				tokens = append(tokens, line[j:k])
				j = k
			}
		}
		if n := len(tokens); n >= 2 && tokens[n-2] == "macdef" {
			tokens = tokens[:n-2]
			for li+1 < len(lines) && strings.TrimSpace(lines[li+1]) != "" {
				li++
			}
		}
	}
	return tokens
}
