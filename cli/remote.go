package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	"bbimport/client"
	"bbimport/client/netrc"
	"bbimport/model"
	"bbimport/termsafe"
)

// openRemote builds the REST client for --url. The password never comes
// from a flag (it would show in ps and in shell history): it comes from
// BITBUCKET_PASSWORD with --user, else from ~/.netrc as `curl -n` reads it,
// else from BITBUCKET_TOKEN, else from a masked prompt on a terminal. An
// access token given with --token comes first; BITBUCKET_TOKEN keeps it
// out of ps and the history.
//
// Before any command runs, the server is checked (client.Check): a wrong
// URL, scheme or password stops the command with one sentence, exit 2. A
// password typed at the prompt and refused is asked for again. The
// credentials that signed in are returned for a migration's runner.
func openRemote(ctx context.Context, g *globalFlags) (model.Backend, remoteCreds, error) {
	host, err := urlHost(g.url)
	if err != nil {
		return nil, remoteCreds{}, err
	}
	c, err := client.New(client.Config{BaseURL: g.url, CAFile: g.caFile, Insecure: g.insecure})
	if err != nil {
		return nil, remoteCreds{}, err
	}
	// No password is asked for a server that is not there.
	if _, err := c.Reach(ctx); err != nil {
		return nil, remoteCreds{}, err
	}
	prompt := g.prompt()
	creds, err := remoteCredentials(host, g.user, g.token, os.Getenv, netrcPath(), prompt)
	if err != nil {
		return nil, remoteCreds{}, err
	}
	for attempt := 1; ; attempt++ {
		if err := c.SetCredentials(creds.user, creds.password, creds.token); err != nil {
			return nil, remoteCreds{}, err
		}
		err := c.SignIn(ctx)
		if err == nil {
			return c, creds, nil
		}
		if !creds.prompted || !errors.Is(err, client.ErrCredentials) || attempt == passwordAttempts {
			return nil, remoteCreds{}, err
		}
		fmt.Fprintln(os.Stderr, "bbimport:", termsafe.String(err.Error()))
		if creds.password, err = prompt(fmt.Sprintf("Password for %s@%s: ", creds.user, host), true); err != nil {
			return nil, remoteCreds{}, err
		}
	}
}

// passwordAttempts is how often a typed password is asked for, as sudo
// and ssh ask.
const passwordAttempts = 3

type remoteCreds struct {
	user, password, token string
	prompted              bool // the password was typed at the prompt
}

// promptFunc asks on the terminal; masked hides what is typed.
type promptFunc func(label string, masked bool) (string, error)

// prompt asks on the terminal when there is one; nil where nobody can be
// asked.
func (g *globalFlags) prompt() promptFunc {
	if g.io.inTTY {
		return terminalPrompt
	}
	return nil
}

func urlHost(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return "", fmt.Errorf("server URL %q is not an http:// or https:// URL such as https://bitbucket.example.com/bitbucket", raw)
	}
	return u.Hostname(), nil
}

func remoteCredentials(host, user, token string, getenv func(string) string, netrcFile string, prompt promptFunc) (remoteCreds, error) {
	if token != "" {
		return remoteCreds{user: user, token: token}, nil
	}
	if pw := getenv("BITBUCKET_PASSWORD"); user != "" && pw != "" {
		return remoteCreds{user: user, password: pw}, nil
	}
	if netrcFile != "" {
		login, pw, err := netrc.LookupFile(netrcFile, host, user)
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
	return remoteCreds{user: user, password: pw, prompted: true}, nil
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
