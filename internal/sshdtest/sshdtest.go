// Package sshdtest starts a real OpenSSH server for tests: on 127.0.0.1,
// on free ports, with its host key, the client's key and its configuration
// made in a temporary directory (the machine's own ssh configuration is
// never read or changed), and a HOME whose ~/.ssh holds the client's key
// and a known_hosts that vouches for the server.
package sshdtest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SSHD is where the server is looked for.
const SSHD = "/usr/sbin/sshd"

// Server is a running sshd.
type Server struct {
	// Port serves every command; SFTPOnlyPort runs internal-sftp whatever
	// the client asks (ForceCommand in a Match block), as SFTP-only
	// accounts do.
	Port, SFTPOnlyPort int
	// User is the user the tests log in as: the one running them.
	User string
	// Home is a HOME with .ssh/id_ed25519 and a known_hosts naming both
	// ports; Dir the server's own files.
	Home, Dir string
	HostKey   ssh.PublicKey
	// KeyFile is the client's private key, also in Home/.ssh.
	KeyFile string

	cmd    *exec.Cmd
	exited chan struct{}
	log    lockedBuffer
}

// lockedBuffer collects sshd's log, written by exec's copying goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Start starts sshd for the test and stops it at the test's end. It skips
// the test, saying why, when sshd is not installed. extraUsers may also log
// in with the client's key (as root, the tests log in as nobody to meet a
// directory they may not write).
func Start(t testing.TB, extraUsers ...string) *Server {
	t.Helper()
	if _, err := os.Stat(SSHD); err != nil {
		t.Skipf("%s is missing (apt-get install openssh-server): the SSH transfer tests need a real server", SSHD)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// Another user the server switches to must be able to read the
	// authorized keys here, and reach the test's directories: open the
	// test's temporary directories (not /tmp) to all.
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s := &Server{User: u.Username, Dir: dir, Home: filepath.Join(dir, "home")}
	hostSigner := writeKey(t, filepath.Join(dir, "host_ed25519"))
	s.HostKey = hostSigner.PublicKey()
	sshDir := filepath.Join(s.Home, ".ssh")
	if err := os.MkdirAll(sshDir, 0o700); err != nil {
		t.Fatal(err)
	}
	s.KeyFile = filepath.Join(sshDir, "id_ed25519")
	client := writeKey(t, s.KeyFile)
	write(t, filepath.Join(dir, "authorized_keys"), ssh.MarshalAuthorizedKey(client.PublicKey()), 0o644)

	ports := freePorts(t, 2)
	s.Port, s.SFTPOnlyPort = ports[0], ports[1]
	allow := s.User
	for _, x := range extraUsers {
		allow += " " + x
	}
	config := fmt.Sprintf(`ListenAddress 127.0.0.1:%d
ListenAddress 127.0.0.1:%d
HostKey %s
PidFile %s
AuthorizedKeysFile %s
AllowUsers %s
StrictModes no
UsePAM no
PermitRootLogin yes
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
LogLevel ERROR
Subsystem sftp internal-sftp
Match LocalPort %d
	ForceCommand internal-sftp
`, s.Port, s.SFTPOnlyPort, filepath.Join(dir, "host_ed25519"), filepath.Join(dir, "sshd.pid"),
		filepath.Join(dir, "authorized_keys"), allow, s.SFTPOnlyPort)
	cfgPath := filepath.Join(dir, "sshd_config")
	write(t, cfgPath, []byte(config), 0o644)
	s.WriteKnownHosts(t, s.HostKey)

	// Run as root, sshd wants its privilege separation directory, which
	// the openssh-server package leaves to systemd-tmpfiles to make at
	// boot; a container has not booted.
	if os.Geteuid() == 0 {
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// -D: stay in the foreground, a child of the test; -e: log to stderr.
	s.cmd = exec.Command(SSHD, "-D", "-e", "-f", cfgPath)
	s.cmd.Stdout, s.cmd.Stderr = &s.log, &s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start sshd: %v", err)
	}
	s.exited = make(chan struct{})
	go func() {
		// How sshd ended shows in its log and ProcessState.
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill() // fails only when it has ended already
		<-s.exited
		if t.Failed() {
			t.Logf("sshd said:\n%s", s.Log())
		}
	})
	s.waitListening(t)
	return s
}

// Log is what sshd has logged so far.
func (s *Server) Log() string { return s.log.String() }

// Addr is user@127.0.0.1:port, as bbimport's commands take it.
func (s *Server) Addr(user string, port int) string {
	return fmt.Sprintf("%s@127.0.0.1:%d", user, port)
}

// WriteKnownHosts replaces Home's known_hosts with keys for both ports;
// none makes the server unknown.
func (s *Server) WriteKnownHosts(t testing.TB, keys ...ssh.PublicKey) {
	t.Helper()
	var b bytes.Buffer
	for _, k := range keys {
		for _, port := range []int{s.Port, s.SFTPOnlyPort} {
			host := knownhosts.Normalize(net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			b.WriteString(knownhosts.Line([]string{host}, k) + "\n")
		}
	}
	write(t, filepath.Join(s.Home, ".ssh", "known_hosts"), b.Bytes(), 0o644)
}

// waitListening returns once both ports take connections.
func (s *Server) waitListening(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for _, port := range []int{s.Port, s.SFTPOnlyPort} {
		for {
			c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			if err == nil {
				c.Close()
				break
			}
			select {
			case <-s.exited:
				t.Fatalf("sshd ended: %v\nsshd said:\n%s", s.cmd.ProcessState, s.Log())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("sshd does not listen on 127.0.0.1:%d: %v\nsshd said:\n%s", port, err, s.Log())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// NewKey makes another host key, for a server that "changed" its key.
func NewKey(t testing.TB) ssh.PublicKey {
	t.Helper()
	return writeKey(t, filepath.Join(t.TempDir(), "key")).PublicKey()
}

func writeKey(t testing.TB, path string) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	write(t, path, pem.EncodeToMemory(block), 0o600)
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return signer
}

func write(t testing.TB, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
}

// freePorts holds n listeners at once, so that the ports differ.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}
