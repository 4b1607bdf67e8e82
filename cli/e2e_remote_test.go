package cli

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Remote mode as a new admin meets it: the jobs of a serve, whoever
// started them; the same found by discovery on a server without bbimport's
// namespace (a real Bitbucket); every wrong URL, scheme or password
// stopped at once with its own sentence; a console that asks for the
// password again.
func TestE2ERemote(t *testing.T) {
	bin := consoleBinary(t)
	home, dir := e2eHome(t, bin)
	serve := startServe(t, bin, home)
	noNetrc := "NETRC=" + filepath.Join(t.TempDir(), "none")

	// The console starts job 1, and quits once it has finished.
	console := []string{bin, "--url", serve, "--user", "admin", "--import-dir", dir}
	s := startTmux(t, console, []string{"BITBUCKET_PASSWORD=pw", "XDG_STATE_HOME=" + t.TempDir(), noNetrc})
	s.wait("Preview · small.tar")
	s.keys("Enter")
	s.wait("Start the import?")
	s.keys("y")
	s.wait("Job 1 · small.tar", "✓ COMPLETED")
	s.keys("q")
	s.wait("[exit 0]")
	// curl starts job 2.
	req, err := http.NewRequest(http.MethodPost, serve+"/rest/api/1.0/migration/imports", strings.NewReader(`{"archivePath":"collide.tar"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("admin", "pw")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("curl's start: %v %v", resp, err)
	}
	resp.Body.Close()

	jobIDs := func(out string) []string {
		var ids []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
			ids = append(ids, strings.Fields(line)[0])
		}
		return ids
	}
	t.Run("jobs of serve", func(t *testing.T) {
		// A state file of its own: serve lists every job itself.
		out, errOut, code := runEnv(t, bin, []string{"BITBUCKET_PASSWORD=pw", "XDG_STATE_HOME=" + t.TempDir(), noNetrc},
			"jobs", "--url", serve, "--user", "admin")
		if code != exitOK || strings.Join(jobIDs(out), " ") != "2 1" || !strings.Contains(out, "small.tar") || !strings.Contains(out, "collide.tar") {
			t.Errorf("jobs --url: exit %d\n%s%s", code, out, errOut)
		}
	})

	t.Run("jobs of a server without the namespace", func(t *testing.T) {
		out, errOut, code := runEnv(t, bin, []string{"BITBUCKET_PASSWORD=pw", "XDG_STATE_HOME=" + t.TempDir(), noNetrc},
			"jobs", "--url", withoutNamespace(t, serve), "--user", "admin")
		if code != exitOK || strings.Join(jobIDs(out), " ") != "2 1" {
			t.Errorf("jobs --url of a Bitbucket, found by discovery: exit %d\n%s%s", code, out, errOut)
		}
	})

	t.Run("wrong URL, scheme or password", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := ln.Addr().String()
		ln.Close()
		hostPort := strings.TrimPrefix(serve, "http://")
		for _, tc := range []struct{ url, password, want string }{
			{"http://bitbukcet.invalid:7990", "pw", "bbimport: reach http://bitbukcet.invalid:7990: no host named bitbukcet.invalid can be found ("},
			{"http://" + closed, "pw", "bbimport: reach http://" + closed + ": nothing is listening at " + closed + " (connection refused); check the port in --url and that the server is running\n"},
			{"https://" + hostPort, "pw", "bbimport: reach https://" + hostPort + ": this server speaks http: use http://" + hostPort + "\n"},
			{serve, "wrong", "bbimport: " + serve + " refused the password of user admin (HTTP 401 Unauthorized): check the user and password\n"},
		} {
			out, errOut, code := runEnv(t, bin, []string{"BITBUCKET_PASSWORD=" + tc.password, "XDG_STATE_HOME=" + t.TempDir(), noNetrc},
				"jobs", "--url", tc.url, "--user", "admin")
			if code != exitNotStarted || out != "" || !strings.HasPrefix(errOut, tc.want) || strings.Count(errOut, "\n") != 1 {
				t.Errorf("jobs --url %s: exit %d, stdout %q, stderr\n  %q\nwant exit 2, nothing on stdout, one line\n  %q", tc.url, code, out, errOut, tc.want)
			}
		}
	})

	t.Run("the console asks for the password again", func(t *testing.T) {
		s := startTmux(t, console, []string{"XDG_STATE_HOME=" + t.TempDir(), noNetrc})
		s.wait("Password for admin@127.0.0.1:")
		s.keys("nope", "Enter")
		s.wait("refused the password of user admin", "check the user and password")
		s.keys("pw", "Enter")
		s.wait("· as admin", "Preview · small.tar")
	})
}

// withoutNamespace puts serve behind a proxy that answers bbimport's own
// namespace 404, as a real Bitbucket does, and returns the proxy's URL.
func withoutNamespace(t *testing.T, serve string) string {
	t.Helper()
	target, err := url.Parse(serve)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	bitbucket := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/rest/bbimport/") {
			http.NotFound(w, r)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(bitbucket.Close)
	return bitbucket.URL
}

// runEnv runs bin with env added to the test's environment.
func runEnv(t *testing.T, bin string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}
