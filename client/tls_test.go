package client

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"bbimport/server"
	"bbimport/server/servertest"
)

// selfSigned writes a certificate for 127.0.0.1 and its key as PEM files.
func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "bbimport test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestTLS(t *testing.T) {
	certFile, keyFile := selfSigned(t)
	srv, err := server.New(server.Config{Importer: servertest.New(t.TempDir()), Admin: server.Credentials{User: "admin", Password: "pw"},
		Version: "tls", TLSCert: certFile, TLSKey: keyFile})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln, time.Second) }()
	defer func() { stop(); <-served }()
	url := "https://" + ln.Addr().String()

	connect := func(cfg Config) error {
		cfg.BaseURL, cfg.User, cfg.Password, cfg.StateDir = url, "admin", "pw", t.TempDir()
		c, err := New(cfg)
		if err != nil {
			return err
		}
		_, err = c.ApplicationProperties(context.Background())
		return err
	}
	err = connect(Config{})
	if err == nil || !strings.HasPrefix(err.Error(), "read the server's application properties: the certificate of "+ln.Addr().String()+" is not trusted (") ||
		!strings.HasSuffix(err.Error(), "; pass --ca-file with the CA that signed it, or --insecure to skip the check (unsafe)") {
		t.Errorf("untrusted certificate: %v", err)
	}
	if err := connect(Config{CAFile: certFile}); err != nil {
		t.Errorf("with --ca-file: %v", err)
	}
	var warned bytes.Buffer
	warnings = &warned
	defer func() { warnings = os.Stderr }()
	if err := connect(Config{Insecure: true}); err != nil {
		t.Errorf("with --insecure: %v", err)
	}
	if want := "bbimport: warning: --insecure: the certificate of " + url + " is not checked; anyone on the network path can read the password\n"; warned.String() != want {
		t.Errorf("warning %q, want %q", warned.String(), want)
	}
	if err := connect(Config{CAFile: keyFile}); err == nil || !strings.Contains(err.Error(), "holds no PEM certificate") {
		t.Errorf("a CA file without a certificate: %v", err)
	}
}
