package carry

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Keys say how to log in and which host keys to trust. The zero value
// does what ssh does: keys from the agent ($SSH_AUTH_SOCK) and
// $HOME/.ssh/id_*, host keys from $HOME/.ssh/known_hosts.
type Keys struct {
	// IdentityFile is a private key to try first (ssh -i).
	IdentityFile string
	// KnownHosts is the known_hosts file; default $HOME/.ssh/known_hosts.
	KnownHosts string
	// AgentSocket is the SSH agent's socket; default $SSH_AUTH_SOCK.
	AgentSocket string
}

// dialTimeout bounds the TCP connect and the SSH handshake, not the transfer.
const dialTimeout = 30 * time.Second

// defaultKeyFiles are the key files ssh tries, in its order.
var defaultKeyFiles = []string{"id_ed25519", "id_ecdsa", "id_rsa"}

// HostKeyError is a host key that known_hosts does not vouch for: the
// host is unknown (Known is empty) or its key changed. Nothing was sent.
type HostKeyError struct {
	Host        string // as known_hosts names it: host, or [host]:port
	KnownHosts  string // the file that was read
	Type        string // the offered key's type, such as ssh-ed25519; "" when none was of a known kind
	Fingerprint string // SHA256:…, as ssh-keygen -l prints it
	Known       []string
}

func (e *HostKeyError) Error() string {
	if len(e.Known) == 0 {
		return fmt.Sprintf("the host key of %s is not in %s: it offered %s %s. "+
			"Check that fingerprint with the server's admin (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub on the server), "+
			"then add the key (connect once with ssh, or ssh-keyscan) and run again; nothing was sent",
			e.Host, e.KnownHosts, e.Type, e.Fingerprint)
	}
	offered := "it offered " + e.Type + " " + e.Fingerprint
	if e.Fingerprint == "" {
		offered = "it offers none of the kinds of key known for it"
	}
	return fmt.Sprintf("THE HOST KEY OF %s HAS CHANGED: %s, but %s holds %s. "+
		"Someone may be intercepting the connection, or the server was reinstalled; nothing was sent. "+
		"Ask the server's admin; if the change is expected, remove the old key (ssh-keygen -R %s) and add the new one",
		e.Host, offered, e.KnownHosts, strings.Join(e.Known, ", "), e.Host)
}

// dial opens an SSH connection to a, checking its host key and logging in
// with the keys k finds.
func dial(ctx context.Context, a Address, k Keys) (*ssh.Client, error) {
	home, _ := os.UserHomeDir()
	if k.KnownHosts == "" {
		k.KnownHosts = filepath.Join(home, ".ssh", "known_hosts")
	}
	if k.AgentSocket == "" {
		k.AgentSocket = os.Getenv("SSH_AUTH_SOCK")
	}
	hostKeys, err := hostKeyCheck(k.KnownHosts)
	if err != nil {
		return nil, err
	}
	signers, closeAgent, err := loginKeys(k, home)
	if err != nil {
		return nil, err
	}
	defer closeAgent()
	if len(signers) == 0 {
		return nil, fmt.Errorf("no SSH key to log in to %s with: start an agent with your key (ssh-add), put one in %s, or name one with -i",
			a, filepath.Join(home, ".ssh", "id_ed25519"))
	}
	var offered ssh.PublicKey
	known := knownKeys(hostKeys, a.hostPort())
	cfg := &ssh.ClientConfig{
		User: a.User,
		Auth: []ssh.AuthMethod{ssh.PublicKeys(signers...)},
		HostKeyCallback: func(hostname string, remote net.Addr, key ssh.PublicKey) error {
			offered = key
			return hostKeys(hostname, remote, key)
		},
		// Ask only for the kinds of key known_hosts holds for this host:
		// otherwise the server may offer another kind, which would look
		// like a changed key.
		HostKeyAlgorithms: algorithmsOfKeys(known),
		Timeout:           dialTimeout,
	}
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, "tcp", a.hostPort())
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", a, err)
	}
	// The handshake has no context of its own: a deadline bounds it.
	if err := conn.SetDeadline(time.Now().Add(dialTimeout)); err != nil {
		conn.Close()
		return nil, fmt.Errorf("connect to %s: %w", a, err)
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, a.hostPort(), cfg)
	if err != nil {
		conn.Close()
		var ke *knownhosts.KeyError
		if errors.As(err, &ke) {
			return nil, hostKeyError(ke.Want, a, k.KnownHosts, offered)
		}
		// Asked only for the known kinds of key, a server that has none of
		// them fails the handshake: its keys changed as surely.
		if len(known) > 0 && strings.Contains(err.Error(), "no common algorithm for host key") {
			return nil, hostKeyError(known, a, k.KnownHosts, nil)
		}
		if strings.Contains(err.Error(), "unable to authenticate") {
			return nil, fmt.Errorf("%s refused every key offered for user %s (%d): add your public key to ~%s/.ssh/authorized_keys there, or name the right one with -i",
				a.Host, a.User, len(signers), a.User)
		}
		return nil, fmt.Errorf("ssh %s: %w", a, err)
	}
	if err := conn.SetDeadline(time.Time{}); err != nil {
		c.Close()
		return nil, fmt.Errorf("ssh %s: %w", a, err)
	}
	return ssh.NewClient(c, chans, reqs), nil
}

// hostKeyCheck reads known_hosts; a missing file knows no host.
func hostKeyCheck(path string) (ssh.HostKeyCallback, error) {
	cb, err := knownhosts.New(path)
	if errors.Is(err, fs.ErrNotExist) {
		return func(string, net.Addr, ssh.PublicKey) error { return &knownhosts.KeyError{} }, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return cb, nil
}

func hostKeyError(want []knownhosts.KnownKey, a Address, knownHosts string, offered ssh.PublicKey) error {
	e := &HostKeyError{Host: knownhosts.Normalize(a.hostPort()), KnownHosts: knownHosts}
	if offered != nil {
		e.Type, e.Fingerprint = offered.Type(), ssh.FingerprintSHA256(offered)
	}
	for _, w := range want {
		e.Known = append(e.Known, fmt.Sprintf("%s %s (line %d)", w.Key.Type(), ssh.FingerprintSHA256(w.Key), w.Line))
	}
	return e
}

// placeholderKey matches no known key, so that asking known_hosts about it
// lists every key known for a host.
type placeholderKey struct{}

func (placeholderKey) Type() string                        { return "placeholder" }
func (placeholderKey) Marshal() []byte                     { return []byte("placeholder") }
func (placeholderKey) Verify([]byte, *ssh.Signature) error { return errors.New("placeholder") }

// knownKeys are the keys known_hosts holds for hostPort.
func knownKeys(cb ssh.HostKeyCallback, hostPort string) []knownhosts.KnownKey {
	var ke *knownhosts.KeyError
	if err := cb(hostPort, &net.TCPAddr{IP: net.IPv4zero, Port: 22}, placeholderKey{}); errors.As(err, &ke) {
		return ke.Want
	}
	return nil
}

// algorithmsOfKeys are the host key algorithms of keys, nil (any) for none.
func algorithmsOfKeys(keys []knownhosts.KnownKey) []string {
	var algos []string
	seen := map[string]bool{}
	for _, k := range keys {
		for _, algo := range algorithmsOf(k.Key.Type()) {
			if !seen[algo] {
				seen[algo] = true
				algos = append(algos, algo)
			}
		}
	}
	return algos
}

// algorithmsOf are the signature algorithms a host key of keyType can use:
// an RSA key signs with SHA-2 (and SHA-1, for old servers).
func algorithmsOf(keyType string) []string {
	switch keyType {
	case ssh.KeyAlgoRSA:
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	case ssh.CertAlgoRSAv01:
		return []string{ssh.CertAlgoRSASHA512v01, ssh.CertAlgoRSASHA256v01, ssh.CertAlgoRSAv01}
	}
	return []string{keyType}
}

// loginKeys gathers the keys to offer: -i first, then the agent's, then
// ~/.ssh/id_*. A key file protected by a passphrase is left to the agent.
// The returned func closes the agent connection, after the login.
func loginKeys(k Keys, home string) ([]ssh.Signer, func(), error) {
	var signers []ssh.Signer
	if k.IdentityFile != "" {
		s, err := readKey(k.IdentityFile)
		if err != nil {
			return nil, nil, err
		}
		signers = append(signers, s)
	}
	closeAgent := func() {}
	if k.AgentSocket != "" {
		if conn, err := net.Dial("unix", k.AgentSocket); err == nil { //nolint:noctx // a local socket answers or refuses at once
			closeAgent = func() { conn.Close() }
			if s, err := agent.NewClient(conn).Signers(); err == nil {
				signers = append(signers, s...)
			}
		}
	}
	if k.IdentityFile == "" {
		for _, name := range defaultKeyFiles {
			if s, err := readKey(filepath.Join(home, ".ssh", name)); err == nil {
				signers = append(signers, s)
			}
		}
	}
	return signers, closeAgent, nil
}

func readKey(path string) (ssh.Signer, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read SSH key: %w", err)
	}
	s, err := ssh.ParsePrivateKey(pem)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		return nil, fmt.Errorf("the SSH key %s is protected by a passphrase: add it to your agent (ssh-add %s) and run again", path, path)
	}
	if err != nil {
		return nil, fmt.Errorf("read SSH key %s: %w", path, err)
	}
	return s, nil
}
