package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRemoteCredentials(t *testing.T) {
	netrc := filepath.Join(t.TempDir(), "netrc")
	err := os.WriteFile(netrc, []byte(`# curl -n reads this
machine other.example.com login bob password bobpw
machine bb.example.com
  login admin
  password "s3cret with space"
macdef init
machine bb.example.com login evil password nope

default login anon password anonpw
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	var asked []string
	prompt := func(label string, masked bool) (string, error) {
		asked = append(asked, label)
		if masked {
			return "typed", nil
		}
		return "carol", nil
	}
	cases := []struct {
		name, host, user string
		env              map[string]string
		netrc            string
		prompt           promptFunc
		want             remoteCreds
		wantErr          string
	}{
		{"user and BITBUCKET_PASSWORD", "bb.example.com", "admin", map[string]string{"BITBUCKET_PASSWORD": "envpw"}, netrc, nil, remoteCreds{user: "admin", password: "envpw"}, ""},
		{"netrc machine", "bb.example.com", "", nil, netrc, nil, remoteCreds{user: "admin", password: "s3cret with space"}, ""},
		{"netrc machine for the given user", "other.example.com", "bob", nil, netrc, nil, remoteCreds{user: "bob", password: "bobpw"}, ""},
		{"netrc default", "unknown.example.com", "", nil, netrc, nil, remoteCreds{user: "anon", password: "anonpw"}, ""},
		{"token", "bb.example.com", "", map[string]string{"BITBUCKET_TOKEN": "BBDC-x"}, "", nil, remoteCreds{token: "BBDC-x"}, ""},
		{"prompt", "bb.example.com", "", nil, filepath.Join(t.TempDir(), "none"), prompt, remoteCreds{user: "carol", password: "typed", prompted: true}, ""},
		{"nothing", "bb.example.com", "", nil, "", nil, remoteCreds{}, "no credentials for bb.example.com: set --user (or BITBUCKET_USER) and BITBUCKET_PASSWORD"},
		{"BITBUCKET_PASSWORD without a user, no terminal", "bb.example.com", "", map[string]string{"BITBUCKET_PASSWORD": "envpw"}, "", nil, remoteCreds{}, "BITBUCKET_PASSWORD is set but no user is: pass --user"},
		{"a macdef body is no entry", "bb.example.com", "evil", nil, netrc, nil, remoteCreds{}, "no credentials for bb.example.com"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env = c.env
			if env == nil {
				env = map[string]string{}
			}
			got, err := remoteCredentials(c.host, c.user, "", getenv, c.netrc, c.prompt)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Errorf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil || got != c.want {
				t.Errorf("got %+v %v, want %+v", got, err, c.want)
			}
		})
	}
	if strings.Join(asked, "|") != "User for bb.example.com: |Password for carol@bb.example.com: " {
		t.Errorf("prompts %q", asked)
	}

	// On a terminal, BITBUCKET_PASSWORD without a user: only the user is asked.
	asked = nil
	env = map[string]string{"BITBUCKET_PASSWORD": "envpw"}
	got, err := remoteCredentials("bb.example.com", "", "", getenv, "", prompt)
	if err != nil || got != (remoteCreds{user: "carol", password: "envpw"}) || len(asked) != 1 {
		t.Errorf("got %+v %v after prompts %q; want carol with the environment's password, asked once", got, err, asked)
	}

	// --token wins over every other source.
	env = map[string]string{"BITBUCKET_PASSWORD": "envpw", "BITBUCKET_TOKEN": "BBDC-env"}
	got, err = remoteCredentials("bb.example.com", "admin", "BBDC-flag", getenv, netrc, prompt)
	if err != nil || got != (remoteCreds{user: "admin", token: "BBDC-flag"}) {
		t.Errorf("--token: got %+v %v", got, err)
	}
}
