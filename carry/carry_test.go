package carry

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"

	"bbimport/internal/sshdtest"
)

// testSize spans many chunks and many SFTP requests in flight.
const testSize = 24<<20 + 12345

// archiveFile writes size random bytes as dir/Bitbucket_export_1.tar and
// returns its path and MD5.
func archiveFile(t *testing.T, dir string, size int) (string, string) {
	t.Helper()
	data := make([]byte, size)
	mrand.NewChaCha8([32]byte{1}).Read(data)
	p := filepath.Join(dir, "Bitbucket_export_1.tar")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(data)
	return p, hex.EncodeToString(sum[:])
}

// server starts sshd and points HOME at its client's home, with no agent:
// Dial finds the key and known_hosts as it would in ~/.ssh.
func server(t *testing.T, extraUsers ...string) *sshdtest.Server {
	s := sshdtest.Start(t, extraUsers...)
	t.Setenv("HOME", s.Home)
	t.Setenv("SSH_AUTH_SOCK", "")
	return s
}

func connect(t *testing.T, s *sshdtest.Server, user string, port int) *Remote {
	t.Helper()
	a, err := ParseAddress(s.Addr(user, port))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Dial(context.Background(), a, Keys{})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func sameFile(t *testing.T, got, want string) {
	t.Helper()
	a, err := os.ReadFile(got)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatalf("%s (%d bytes) differs from %s (%d bytes)", got, len(a), want, len(b))
	}
}

func noTemporary(t *testing.T, dir string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, TemporaryName("Bitbucket_export_1.tar"))); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the temporary file is still there (%v)", err)
	}
}

func TestUploadWhole(t *testing.T) {
	s := server(t)
	src, sum := archiveFile(t, t.TempDir(), testSize)
	dst := t.TempDir()
	r := connect(t, s, s.User, s.Port)

	var last Progress
	var mu sync.Mutex
	res, err := Carry(context.Background(), Local, src, r, dst, Options{Progress: func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		if p.Step == StepCarry {
			last = p
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	final := filepath.Join(dst, "Bitbucket_export_1.tar")
	sameFile(t, final, src)
	noTemporary(t, dst)
	if res.Path != final || res.Bytes != testSize || res.Sent != testSize || res.Resumed != 0 || res.Method != "sftp" {
		t.Errorf("result %+v", res)
	}
	if res.Sums.MD5 != sum || res.Source != (EndMD5{sum, "carried"}) || res.Target != (EndMD5{sum, "md5sum"}) {
		t.Errorf("sums %+v, source %+v, target %+v; want MD5 %s", res.Sums, res.Source, res.Target, sum)
	}
	if len(res.Sums.SHA256) != 64 {
		t.Errorf("SHA-256 %q", res.Sums.SHA256)
	}
	if fi, err := os.Stat(final); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v (%v), want 0644", fi.Mode(), err)
	}
	if last.Done != testSize || last.Total != testSize || last.Rate <= 0 {
		t.Errorf("last carry progress %+v", last)
	}

	// A second carry does not replace what the importer may be reading.
	if _, err := Carry(context.Background(), Local, src, r, dst, Options{}); !errors.Is(err, ErrExists) {
		t.Errorf("carry onto an existing file: %v, want ErrExists", err)
	}
}

// breakAt closes the connection of r once done passes at.
func breakAt(r *Remote, at int64) func(int64) {
	var once sync.Once
	return func(done int64) {
		if done >= at {
			once.Do(func() { r.ssh.Close() })
		}
	}
}

func TestUploadResumesWhereItBroke(t *testing.T) {
	s := server(t)
	src, sum := archiveFile(t, t.TempDir(), testSize)
	dst := t.TempDir()
	tmp := filepath.Join(dst, TemporaryName("Bitbucket_export_1.tar"))

	r := connect(t, s, s.User, s.Port)
	_, err := Carry(context.Background(), Local, src, r, dst, Options{Carried: breakAt(r, testSize/2)})
	var broken *BrokenError
	if !errors.As(err, &broken) {
		t.Fatalf("carry over a closed connection: %v, want a BrokenError", err)
	}
	if !strings.Contains(err.Error(), "resume") {
		t.Errorf("the error does not say how to go on: %v", err)
	}
	fi, err := os.Stat(tmp)
	if err != nil || fi.Size() == 0 || fi.Size() >= testSize {
		t.Fatalf("after the break the temporary file is %v (%v), want part of %d bytes", fi, err, testSize)
	}
	if _, err := os.Stat(filepath.Join(dst, "Bitbucket_export_1.tar")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a broken transfer has its final name (%v)", err)
	}
	partial := fi.Size()

	var prefixDone int64
	res, err := Carry(context.Background(), Local, src, connect(t, s, s.User, s.Port), dst, Options{Resume: true, Progress: func(p Progress) {
		if p.Step == StepPrefix {
			prefixDone = p.Done
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	// The server may still have written requests that were on their way
	// when the connection closed: the resume starts at the length then.
	if res.Resumed < partial || res.Sent != testSize-res.Resumed {
		t.Errorf("resumed at %d and sent %d of %d, with %d there after the break: not continued where it broke",
			res.Resumed, res.Sent, testSize, partial)
	}
	if prefixDone != res.Resumed {
		t.Error("no progress report of hashing the part sent before")
	}
	if res.Sums.MD5 != sum || res.Target.MD5 != sum {
		t.Errorf("sums %+v, target %+v, want MD5 %s", res.Sums, res.Target, sum)
	}
	sameFile(t, filepath.Join(dst, "Bitbucket_export_1.tar"), src)
	noTemporary(t, dst)
}

func TestChangedByteCaughtByMD5(t *testing.T) {
	s := server(t)
	src, sum := archiveFile(t, t.TempDir(), testSize)
	dst := t.TempDir()
	r := connect(t, s, s.User, s.Port)
	_, err := Carry(context.Background(), Local, src, r, dst, Options{AfterCarry: func(tmp string) {
		// The server is this machine: change a byte of what it received.
		f, err := os.OpenFile(tmp, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		b := make([]byte, 1)
		f.ReadAt(b, 4242)
		b[0] ^= 0x20
		f.WriteAt(b, 4242)
	}})
	var mismatch *MismatchError
	if !errors.As(err, &mismatch) {
		t.Fatalf("carry with a byte changed at the target: %v, want a MismatchError", err)
	}
	if mismatch.End != "target" || mismatch.Carried != sum || mismatch.EndMD5.MD5 == sum || mismatch.EndMD5.How != "md5sum" {
		t.Errorf("mismatch %+v", mismatch)
	}
	if msg := err.Error(); !strings.Contains(msg, sum) || !strings.Contains(msg, mismatch.EndMD5.MD5) {
		t.Errorf("the error does not name both sums: %s", msg)
	}
	if _, err := os.Stat(filepath.Join(dst, "Bitbucket_export_1.tar")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a damaged copy got its final name (%v)", err)
	}
	noTemporary(t, dst)
}

// TestFinishedFileRecognised: a carry that named its file but whose
// caller stopped before recording it finds the file under its final name
// when run again; with what Checked reported it takes the file as its own
// after computing its MD5 at the target again, and without it (or after
// the file changed) refuses it as ErrExists.
func TestFinishedFileRecognised(t *testing.T) {
	s := server(t)
	src, sum := archiveFile(t, t.TempDir(), testSize)
	dst := t.TempDir()
	r := connect(t, s, s.User, s.Port)
	var checked Result
	if _, err := Carry(context.Background(), Local, src, r, dst, Options{Checked: func(res Result) { checked = res }}); err != nil {
		t.Fatal(err)
	}
	if checked.Sums.MD5 != sum || checked.Sums.Bytes != testSize {
		t.Fatalf("Checked got %+v", checked.Sums)
	}
	if _, err := Carry(context.Background(), Local, src, r, dst, Options{Resume: true}); !errors.Is(err, ErrExists) {
		t.Errorf("again, knowing nothing of the first: %v, want ErrExists", err)
	}
	res, err := Carry(context.Background(), Local, src, r, dst, Options{Resume: true, Finished: &checked.Sums})
	if err != nil {
		t.Fatalf("again, with what Checked gave: %v", err)
	}
	if res.Sent != 0 || res.Resumed != testSize || res.Sums != checked.Sums || res.Target != (EndMD5{sum, "md5sum"}) || res.Source.How != "recorded" {
		t.Errorf("result %+v", res)
	}
	final := filepath.Join(dst, "Bitbucket_export_1.tar")
	f, err := os.OpenFile(final, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	f.ReadAt(b, 4242)
	b[0] ^= 0x20
	f.WriteAt(b, 4242)
	f.Close()
	_, err = Carry(context.Background(), Local, src, r, dst, Options{Resume: true, Finished: &checked.Sums})
	if !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), sum) {
		t.Errorf("again, the file changed since: %v, want ErrExists naming the MD5 checked", err)
	}
	if fi, err := os.Stat(final); err != nil || fi.Size() != testSize {
		t.Errorf("the changed file was replaced or removed: %v", err)
	}
}

func TestUnknownHostRefusedWithFingerprint(t *testing.T) {
	s := server(t)
	a, _ := ParseAddress(s.Addr(s.User, s.Port))
	for _, name := range []string{"empty known_hosts", "no known_hosts"} {
		if name == "empty known_hosts" {
			s.WriteKnownHosts(t)
		} else {
			os.Remove(filepath.Join(s.Home, ".ssh", "known_hosts"))
		}
		_, err := Dial(context.Background(), a, Keys{})
		var hk *HostKeyError
		if !errors.As(err, &hk) || len(hk.Known) != 0 {
			t.Fatalf("%s: dial: %v, want an unknown host", name, err)
		}
		want := ssh.FingerprintSHA256(s.HostKey)
		if hk.Fingerprint != want || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "not in") {
			t.Errorf("%s: %v; want the fingerprint %s to check", name, err, want)
		}
	}
}

func TestChangedHostKeyRefused(t *testing.T) {
	s := server(t)
	a, _ := ParseAddress(s.Addr(s.User, s.Port))
	// The server's key is an Ed25519 key: known_hosts holds another one, or
	// only a key of a kind the server does not have.
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	oldRSA, err := ssh.NewPublicKey(&rsaKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		old  ssh.PublicKey
		want []string
	}{
		{sshdtest.NewKey(t), []string{ssh.FingerprintSHA256(s.HostKey)}},
		{oldRSA, []string{"none of the kinds of key known"}},
	} {
		s.WriteKnownHosts(t, c.old)
		_, err := Dial(context.Background(), a, Keys{})
		var hk *HostKeyError
		if !errors.As(err, &hk) || len(hk.Known) != 1 {
			t.Fatalf("dial with a %s key known: %v, want a changed host key", c.old.Type(), err)
		}
		msg := err.Error()
		for _, want := range append(c.want, "HAS CHANGED", ssh.FingerprintSHA256(c.old), "ssh-keygen -R") {
			if !strings.Contains(msg, want) {
				t.Errorf("the refusal lacks %q: %s", want, msg)
			}
		}
	}
}

func TestUnwritableDirectoryNamesDirectoryAndUser(t *testing.T) {
	var s *sshdtest.Server
	user := ""
	dst := ""
	if os.Geteuid() == 0 {
		// root writes anywhere: log in as nobody, to a directory of root's.
		s = server(t, "nobody")
		user = "nobody"
		dst = filepath.Join(s.Dir, "import")
		if err := os.Mkdir(dst, 0o755); err != nil {
			t.Fatal(err)
		}
	} else {
		s = server(t)
		user = s.User
		dst = filepath.Join(s.Dir, "import")
		if err := os.Mkdir(dst, 0o555); err != nil {
			t.Fatal(err)
		}
	}
	src, _ := archiveFile(t, t.TempDir(), 1000)
	os.Chmod(filepath.Dir(src), 0o755)
	r := connect(t, s, user, s.Port)
	_, err := Carry(context.Background(), Local, src, r, dst, Options{})
	want := user + " may not write to " + dst + " on " + user + "@127.0.0.1:" + strconv.Itoa(s.Port)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("carry into a directory the user may not write: %v; want %q", err, want)
	}
}

func TestSFTPOnlyAccountReadsBack(t *testing.T) {
	s := server(t)
	src, sum := archiveFile(t, t.TempDir(), testSize)
	dst := t.TempDir()
	res, err := Carry(context.Background(), Local, src, connect(t, s, s.User, s.SFTPOnlyPort), dst, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Target != (EndMD5{sum, "read-back"}) {
		t.Errorf("target %+v, want the MD5 read back over SFTP", res.Target)
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "second read") {
		t.Errorf("notes %q do not say the read-back costs a second read", res.Notes)
	}
	sameFile(t, filepath.Join(dst, "Bitbucket_export_1.tar"), src)
}

func TestDownloadResumesWhereItBroke(t *testing.T) {
	s := server(t)
	src, sum := archiveFile(t, t.TempDir(), testSize)
	dst := t.TempDir()
	r := connect(t, s, s.User, s.Port)
	_, err := Carry(context.Background(), r, src, Local, dst, Options{Carried: breakAt(r, testSize/3)})
	var broken *BrokenError
	if !errors.As(err, &broken) {
		t.Fatalf("download over a closed connection: %v, want a BrokenError", err)
	}
	res, err := Carry(context.Background(), connect(t, s, s.User, s.Port), src, Local, dst, Options{Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Resumed == 0 || res.Sent >= testSize || res.Resumed+res.Sent != testSize {
		t.Errorf("resumed at %d, sent %d of %d", res.Resumed, res.Sent, testSize)
	}
	if res.Source != (EndMD5{sum, "md5sum"}) || res.Target != (EndMD5{sum, "read"}) || res.Sums.MD5 != sum {
		t.Errorf("source %+v, target %+v, sums %+v; want MD5 %s", res.Source, res.Target, res.Sums, sum)
	}
	sameFile(t, filepath.Join(dst, "Bitbucket_export_1.tar"), src)
	noTemporary(t, dst)
}

func TestServerToServerThroughHere(t *testing.T) {
	s := server(t)
	src, sum := archiveFile(t, t.TempDir(), testSize)
	dst := t.TempDir()
	res, err := Carry(context.Background(), connect(t, s, s.User, s.Port), src, connect(t, s, s.User, s.Port), dst, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Source != (EndMD5{sum, "md5sum"}) || res.Target != (EndMD5{sum, "md5sum"}) {
		t.Errorf("source %+v, target %+v, want MD5 %s by md5sum on both", res.Source, res.Target, sum)
	}
	sameFile(t, filepath.Join(dst, "Bitbucket_export_1.tar"), src)
}

func TestSameMachineLinks(t *testing.T) {
	dir := t.TempDir()
	src, sum := archiveFile(t, dir, 3<<20)
	dst := filepath.Join(dir, "import")
	os.Mkdir(dst, 0o755)
	var checked Result
	res, err := Carry(context.Background(), Local, src, Local, dst, Options{Checked: func(r Result) { checked = r }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Method != "link" || res.Sums.MD5 != sum || res.Target.MD5 != sum {
		t.Errorf("result %+v", res)
	}
	a, _ := os.Stat(src)
	b, _ := os.Stat(res.Path)
	if !os.SameFile(a, b) || b.Mode().Perm() != 0o644 {
		t.Errorf("%s is not a hard link to %s with mode 0644 (%v)", res.Path, src, b.Mode())
	}
	noTemporary(t, dst)
	// A link named before its caller recorded it is recognised as well.
	again, err := Carry(context.Background(), Local, src, Local, dst, Options{Finished: &checked.Sums})
	if err != nil || again.Target != (EndMD5{sum, "read"}) || again.Sent != 0 {
		t.Errorf("again, with what Checked gave: %+v, %v", again, err)
	}
}

// TestSameMachineCopiesAcrossFileSystems needs a second file system: the
// shared-memory one, where the machine has it.
func TestSameMachineCopiesAcrossFileSystems(t *testing.T) {
	other, err := os.MkdirTemp("/dev/shm", "carry")
	if err != nil {
		t.Skipf("no second file system to copy to (/dev/shm: %v)", err)
	}
	defer os.RemoveAll(other)
	src, sum := archiveFile(t, t.TempDir(), 3<<20)
	res, err := Carry(context.Background(), Local, src, Local, other, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := os.Stat(src)
	b, _ := os.Stat(res.Path)
	if os.SameFile(a, b) {
		t.Skip("/dev/shm is on the same file system here")
	}
	if res.Method != "copy" || res.Source != (EndMD5{sum, "carried"}) || res.Target != (EndMD5{sum, "read"}) {
		t.Errorf("result %+v", res)
	}
	sameFile(t, res.Path, src)
}

func TestParseLocation(t *testing.T) {
	for in, want := range map[string]string{
		"/var/x":                      "/var/x",
		"./a:b":                       "./a:b",
		"alice@host:/srv/import":      "alice@host:/srv/import",
		"alice@host:2222:/srv/import": "alice@host:2222:/srv/import",
		"alice@host:rel/dir":          "alice@host:rel/dir",
		"alice@[::1]:2222:/srv":       "alice@[::1]:2222:/srv",
		"alice@host:/a@b:c":           "alice@host:/a@b:c",
		"alice@10.0.0.1:22:/srv/a b":  "alice@10.0.0.1:/srv/a b",
	} {
		l, err := ParseLocation(in)
		if err != nil || l.String() != want {
			t.Errorf("ParseLocation(%q) = %q, %v; want %q", in, l.String(), err, want)
		}
	}
	for _, bad := range []string{"", "host:", "alice@:/x", "host:99999:/x"} {
		if l, err := ParseLocation(bad); err == nil {
			t.Errorf("ParseLocation(%q) = %+v, want an error", bad, l)
		}
	}
}

// writeLog records each write it is given.
type writeLog struct{ writes [][]byte }

func (w *writeLog) Write(p []byte) (int, error) {
	w.writes = append(w.writes, append([]byte(nil), p...))
	return len(p), nil
}
func (w *writeLog) Close() error { return nil }

func TestFrameWriterJoinsHeaderAndData(t *testing.T) {
	var log writeLog
	f := &frameWriter{w: &log}
	// A write request as pkg/sftp sends it: header (length 4+9+5), then data.
	header := []byte{0, 0, 0, 14, 6, 0, 0, 0, 1, 9, 9, 9, 9}
	data := []byte{1, 2, 3, 4, 5}
	// A request without data, whole in one write.
	stat := []byte{0, 0, 0, 5, 17, 0, 0, 0, 2}
	for _, p := range [][]byte{header, data, stat, header, data[:2], data[2:]} {
		if n, err := f.Write(p); n != len(p) || err != nil {
			t.Fatalf("Write(%v) = %d, %v", p, n, err)
		}
	}
	whole := append(append([]byte(nil), header...), data...)
	want := [][]byte{whole, stat, whole}
	if len(log.writes) != len(want) {
		t.Fatalf("%d writes reached the channel, want %d: %v", len(log.writes), len(want), log.writes)
	}
	for i := range want {
		if !bytes.Equal(log.writes[i], want[i]) {
			t.Errorf("write %d = %v, want %v", i, log.writes[i], want[i])
		}
	}
}

// TestReadFileReadsAhead: a remote file read in small pieces, with seeks
// forward, back and past the end, gives the bytes a local read gives.
func TestReadFileReadsAhead(t *testing.T) {
	s := server(t)
	src, _ := archiveFile(t, t.TempDir(), testSize)
	want, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	r := connect(t, s, s.User, s.Port)
	f, err := r.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rnd := mrand.New(mrand.NewPCG(1, 2))
	var pos int64
	for i := 0; i < 2000; i++ {
		if i%50 == 0 {
			pos = rnd.Int64N(testSize)
			if got, err := f.Seek(pos, io.SeekStart); err != nil || got != pos {
				t.Fatalf("seek to %d: %d, %v", pos, got, err)
			}
		}
		p := make([]byte, 1+rnd.IntN(300<<10))
		n, err := io.ReadFull(f, p)
		if pos+int64(len(p)) > testSize {
			if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) || int64(n) != testSize-pos {
				t.Fatalf("read %d at %d near the end: %d, %v", len(p), pos, n, err)
			}
		} else if err != nil {
			t.Fatalf("read %d at %d: %v", len(p), pos, err)
		}
		if !bytes.Equal(p[:n], want[pos:pos+int64(n)]) {
			t.Fatalf("read %d at %d: the bytes differ", len(p), pos)
		}
		pos += int64(n)
		if pos == testSize {
			pos = 0
			f.Seek(0, io.SeekStart)
		}
	}
	if end, err := f.Seek(0, io.SeekEnd); err != nil || end != testSize {
		t.Errorf("seek to the end: %d, %v", end, err)
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != testSize || f.Name() != src {
		t.Errorf("stat %v, %v; name %s", fi, err, f.Name())
	}
}

// shortSide is this machine, but a file read from it ends after n bytes
// without an error, as a server's file may when its connection closes.
type shortSide struct {
	local
	n int64
}

func (s shortSide) open(p string) (io.ReadSeekCloser, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Seeker
		io.Closer
	}{io.LimitReader(f, s.n), f, f}, nil
}

// TestSourceEndingEarlyIsBroken: a source that ends before its size
// without an error is a broken transfer, to resume, not a finished one.
func TestSourceEndingEarlyIsBroken(t *testing.T) {
	src, _ := archiveFile(t, t.TempDir(), 3<<20)
	dst := t.TempDir()
	_, err := Carry(context.Background(), shortSide{n: 1 << 20}, src, Local, dst, Options{})
	var broken *BrokenError
	if !errors.As(err, &broken) || broken.Done != 1<<20 || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("carry from a source that ended early: %v, want a BrokenError after 1 MiB", err)
	}
	res, err := Carry(context.Background(), Local, src, Local, dst, Options{Resume: true})
	if err != nil || res.Resumed != 1<<20 {
		t.Errorf("resume: %+v, %v", res, err)
	}
}
