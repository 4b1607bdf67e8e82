package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	"bbimport/client"
	"bbimport/model"
)

// openRemote builds the REST client for --url. The password never comes
// from a flag (it would show in ps and in shell history): it comes from
// BITBUCKET_PASSWORD with --user, else from ~/.netrc as `curl -n` reads it,
// else from BITBUCKET_TOKEN, else from a masked prompt on a terminal.
func openRemote(_ context.Context, g *globalFlags) (model.Backend, error) {
	host, err := urlHost(g.url)
	if err != nil {
		return nil, err
	}
	var prompt promptFunc
	if term.IsTerminal(int(os.Stdin.Fd())) {
		prompt = terminalPrompt
	}
	creds, err := remoteCredentials(host, g.user, os.Getenv, netrcPath(), prompt)
	if err != nil {
		return nil, err
	}
	return client.New(client.Config{
		BaseURL:  g.url,
		User:     creds.user,
		Password: creds.password,
		Token:    creds.token,
		CAFile:   g.caFile,
		Insecure: g.insecure,
	})
}

type remoteCreds struct {
	user, password, token string
}

// promptFunc asks on the terminal; masked hides what is typed.
type promptFunc func(label string, masked bool) (string, error)

func urlHost(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return "", fmt.Errorf("server URL %q is not an http:// or https:// URL such as https://bitbucket.example.com/bitbucket", raw)
	}
	return u.Hostname(), nil
}

func remoteCredentials(host, user string, getenv func(string) string, netrcFile string, prompt promptFunc) (remoteCreds, error) {
	if pw := getenv("BITBUCKET_PASSWORD"); user != "" && pw != "" {
		return remoteCreds{user: user, password: pw}, nil
	}
	if netrcFile != "" {
		login, pw, err := netrcLookup(netrcFile, host, user)
		if err != nil {
			return remoteCreds{}, err
		}
		if pw != "" {
			return remoteCreds{user: login, password: pw}, nil
		}
	}
	if token := getenv("BITBUCKET_TOKEN"); token != "" {
		return remoteCreds{user: user, token: token}, nil
	}
	envPassword := getenv("BITBUCKET_PASSWORD")
	if prompt == nil {
		if envPassword != "" {
			return remoteCreds{}, errors.New("BITBUCKET_PASSWORD is set but no user is: pass --user or set BITBUCKET_USER")
		}
		return remoteCreds{}, fmt.Errorf("no credentials for %s: set --user (or BITBUCKET_USER) and BITBUCKET_PASSWORD, add a `machine %s login … password …` line to ~/.netrc, or run on a terminal to be asked", host, host)
	}
	if user == "" {
		u, err := prompt("User for "+host+": ", false)
		if err != nil {
			return remoteCreds{}, err
		}
		if user = strings.TrimSpace(u); user == "" {
			return remoteCreds{}, errors.New("no user given")
		}
	}
	if envPassword != "" {
		return remoteCreds{user: user, password: envPassword}, nil
	}
	pw, err := prompt(fmt.Sprintf("Password for %s@%s: ", user, host), true)
	if err != nil {
		return remoteCreds{}, err
	}
	return remoteCreds{user: user, password: pw}, nil
}

func terminalPrompt(label string, masked bool) (string, error) {
	fmt.Fprint(os.Stderr, label)
	if masked {
		b, err := term.ReadPassword(int(os.Stdin.Fd()))
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return "", fmt.Errorf("read the password: %w", err)
		}
		return string(b), nil
	}
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("read the user: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// netrcPath is $NETRC, else ~/.netrc; empty when there is no home.
func netrcPath() string {
	if p := os.Getenv("NETRC"); p != "" {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".netrc")
}

// netrcLookup finds the login and password for host in a netrc file as curl
// reads it: the first `machine` entry for the host (whose login is user,
// when user is given), else `default`. A missing file is no error.
func netrcLookup(path, host, user string) (login, password string, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("read %s: %w", path, err)
	}
	type entry struct{ machine, login, password string }
	var (
		entries []entry
		cur     *entry
	)
	tokens := netrcTokens(string(b))
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
			entries = append(entries, entry{machine: next()})
			cur = &entries[len(entries)-1]
		case "default":
			entries = append(entries, entry{machine: ""})
			cur = &entries[len(entries)-1]
		case "login":
			if v := next(); cur != nil {
				cur.login = v
			}
		case "password":
			if v := next(); cur != nil {
				cur.password = v
			}
		case "account":
			next()
		}
	}
	for _, want := range []string{host, ""} {
		for _, e := range entries {
			if !strings.EqualFold(e.machine, want) || (user != "" && e.login != user) {
				continue
			}
			login = e.login
			if login == "" {
				login = user
			}
			return login, e.password, nil
		}
	}
	return "", "", nil
}

// netrcTokens splits a netrc file into words: double quotes may hold
// spaces and backslash escapes, as curl allows; macdef bodies (up to an
// empty line) are skipped.
func netrcTokens(s string) []string {
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
