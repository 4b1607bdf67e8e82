package archive

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A FIFO put where an archive was checked must neither hang the reader nor
// the checksum: both refuse it at once.
func TestFIFOIsRefusedWithoutHanging(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "export.tar")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	done := make(chan error, 2)
	go func() { done <- ReadFile(fifo, Limits{}, func(*Member) error { return nil }) }()
	go func() { _, err := Checksum(context.Background(), fifo, nil); done <- err }()
	for range 2 {
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("got %v, want a refusal naming a non-regular file", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("opening a FIFO hung")
		}
	}
}

func TestOpenRefusesASymbolicLinkAsTheLastElement(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "Bitbucket_export_1.tar")
	if err := os.WriteFile(target, sampleArchive(t), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.tar")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{"", dir} {
		f, err := Open(link, in)
		if err == nil {
			f.Close()
			t.Fatalf("Open(%q, %q) opened a symbolic link", link, in)
		}
		if want := "open archive " + link + ": it is a symbolic link; name the archive file itself"; err.Error() != want {
			t.Errorf("got %q, want %q", err, want)
		}
	}
	if _, err := Inspect(link, Limits{}); err == nil {
		t.Error("Inspect followed a symbolic link")
	}
}

func TestOpenInRefusesAFIFOWithoutHanging(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "export.tar"), 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		f, err := Open("export.tar", dir)
		if err == nil {
			f.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("got %v, want a refusal naming a non-regular file", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("opening a FIFO hung")
	}
}

func TestOpenInAcceptsAHardLinkAndRefusesWhatLeadsOut(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	archive := filepath.Join(dir, "Bitbucket_export_1.tar")
	if err := os.WriteFile(archive, sampleArchive(t), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(archive, filepath.Join(dir, "copy.tar")); err != nil {
		t.Skipf("no hard links here: %v", err)
	}
	for _, p := range []string{"copy.tar", filepath.Join(dir, "copy.tar")} {
		f, err := Open(p, dir)
		if err != nil {
			t.Fatalf("Open(%q): %v", p, err)
		}
		s, err := InspectFile(f, Limits{})
		f.Close()
		if err != nil || s.Repositories != 2 {
			t.Errorf("inspect of a hard link: %+v, %v", s, err)
		}
	}
	// The directory named through a symbolic link, and the path resolved.
	linkDir := filepath.Join(t.TempDir(), "import")
	if err := os.Symlink(dir, linkDir); err != nil {
		t.Fatal(err)
	}
	if f, err := Open(archive, linkDir); err != nil {
		t.Errorf("resolved path under a linked directory: %v", err)
	} else {
		f.Close()
	}

	secret := filepath.Join(outside, "secret.tar")
	if err := os.WriteFile(secret, sampleArchive(t), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{secret, "../" + filepath.Base(outside) + "/secret.tar", "out/secret.tar", filepath.Join(dir, "out", "secret.tar")} {
		if f, err := Open(p, dir); err == nil {
			f.Close()
			t.Errorf("Open(%q, dir) opened a file outside the directory", p)
		}
	}
	if _, err := Open(secret, dir); err == nil || !strings.Contains(err.Error(), "is not inside the directory "+dir+"; move the archive there") {
		t.Errorf("got %v", err)
	}
}

// What was opened is what is read: a symbolic link swapped in after the
// open changes nothing.
func TestOpenedArchiveIsReadThroughItsHandle(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "Bitbucket_export_1.tar")
	original := sampleArchive(t)
	if err := os.WriteFile(p, original, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(p, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	other := filepath.Join(t.TempDir(), "other.tar")
	if err := os.WriteFile(other, []byte("not an archive"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(other, p); err != nil {
		t.Fatal(err)
	}
	sum, err := ChecksumFile(context.Background(), f, nil)
	if err != nil || sum.Bytes != int64(len(original)) {
		t.Fatalf("checksum through the handle: %+v, %v", sum, err)
	}
	// Checksum read to the end; Inspect and ReadOpened start again.
	if _, err := InspectFile(f, Limits{}); err != nil {
		t.Errorf("inspect through the handle: %v", err)
	}
	members := 0
	if err := ReadOpened(f, Limits{}, func(*Member) error { members++; return nil }); err != nil || members != len(sampleEntries(t)) {
		t.Errorf("read through the handle: %d members, %v", members, err)
	}
}
