package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"bbimport/carry"
	"bbimport/internal/sshdtest"
)

// TestCarryCommand carries a generated archive to a real sshd on
// 127.0.0.1 and back, as an admin would, with keys and known_hosts from
// HOME.
func TestCarryCommand(t *testing.T) {
	s := sshdtest.Start(t)
	t.Setenv("HOME", s.Home)
	t.Setenv("SSH_AUTH_SOCK", "")
	src, _ := generated(t)
	importDir := filepath.Join(s.Dir, "import")
	if err := os.Mkdir(importDir, 0o755); err != nil {
		t.Fatal(err)
	}
	target := s.Addr(s.User, s.Port) + ":" + importDir

	out, code, err := runCmd(t, "carry", src, target)
	if code != 0 {
		t.Fatalf("carry: exit %d: %v\n%s", code, err, out)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	sums, _, _ := runCmd(t, "checksum", src)
	md5 := strings.Fields(sums)[1]
	for _, want := range []string{
		"carried to " + s.Addr(s.User, s.Port) + ": " + filepath.Join(importDir, "Bitbucket_export_7.tar") + " (sftp)",
		"md5     " + md5,
		"source  " + md5 + "  read on this machine while carrying",
		"target  " + md5 + "  md5sum on " + s.Addr(s.User, s.Port),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %q:\n%s", want, out)
		}
	}
	if got, err := os.ReadFile(filepath.Join(importDir, "Bitbucket_export_7.tar")); err != nil || string(got) != string(data) {
		t.Errorf("the carried file differs from the source (%v)", err)
	}

	// Again: the file is there, and is not replaced.
	if out, code, err := runCmd(t, "carry", src, target); code != exitNotStarted || err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Errorf("carry onto an existing file: exit %d, %v\n%s", code, err, out)
	}

	// And back, from the server to this machine, as JSON.
	back := t.TempDir()
	out, code, err = runCmd(t, "carry", "--json", target+"/Bitbucket_export_7.tar", back)
	if code != 0 {
		t.Fatalf("carry back: exit %d: %v", code, err)
	}
	var res carry.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if res.Source != (carry.EndMD5{MD5: md5, How: "md5sum"}) || res.Target != (carry.EndMD5{MD5: md5, How: "read"}) || res.Sent != int64(len(data)) {
		t.Errorf("carry back: %+v", res)
	}
}

func TestCarryCommandRefusals(t *testing.T) {
	s := sshdtest.Start(t)
	t.Setenv("HOME", s.Home)
	t.Setenv("SSH_AUTH_SOCK", "")
	src, _ := generated(t)
	target := s.Addr(s.User, s.Port) + ":" + t.TempDir()

	s.WriteKnownHosts(t)
	_, code, err := runCmd(t, "carry", src, target)
	if fp := ssh.FingerprintSHA256(s.HostKey); code != exitNotStarted || err == nil || !strings.Contains(err.Error(), fp) {
		t.Errorf("an unknown host: exit %d, %v; want 2 and the fingerprint %s", code, err, fp)
	}
	s.WriteKnownHosts(t, s.HostKey)

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{src, target, "--mode", "rw"}, `--mode "rw" is not an octal file mode`},
		{[]string{src, "someone@127.0.0.1:99999:/x"}, "the port"},
		{[]string{src, s.Addr(s.User, s.Port) + ":/nonexistent/import"}, "has no directory /nonexistent/import"},
		{[]string{filepath.Join(filepath.Dir(src), "missing.tar"), target}, "missing.tar on this machine"},
		{[]string{src, target, "-i", filepath.Join(s.Dir, "no-such-key")}, "read SSH key"},
		{[]string{src, "nobody-here@127.0.0.1:" + strconv.Itoa(s.Port) + ":/tmp"}, "refused every key offered for user nobody-here"},
	} {
		_, code, err := runCmd(t, append([]string{"carry"}, c.args...)...)
		if code != exitNotStarted || err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("carry %q: exit %d, %v; want 2 and %q", c.args, code, err, c.want)
		}
	}
}
