// Package unfit writes the archives every door's start must refuse, alike
// and before a job is recorded: cut short, empty, not a tar, and one still
// being written. The importer, serve and the commands test their refusals
// on these.
package unfit

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// growingCap bounds the growing archive's size.
const growingCap = 64 << 20

// Case is an archive to refuse and words the refusal must hold.
type Case struct {
	Name, Says string
}

// Write puts the fixed unfit archives into dir, made from good (a whole
// archive's bytes), and returns them.
func Write(t testing.TB, dir string, good []byte) []Case {
	t.Helper()
	cases := []struct {
		Case
		data []byte
	}{
		{Case{"cut.tar", "archive is truncated"}, good[:len(good)/2]},
		{Case{"empty.tar", "it is empty"}, nil},
		{Case{"notes.tar", "it is not a tar file"}, []byte("a text file, not an archive\n")},
	}
	out := make([]Case, len(cases))
	for i, c := range cases {
		if err := os.WriteFile(filepath.Join(dir, c.Name), c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		out[i] = c.Case
	}
	return out
}

// Growing starts a copy into dir/growing.tar that keeps writing until stop
// is called: any two looks at its size and time, however far apart,
// differ. It appends good (a whole archive) up to growingCap, then writes
// over what it wrote, so that the disk is not filled.
func Growing(t testing.TB, dir string, good []byte) (c Case, stop func()) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "growing.tar"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(good[:len(good)/4]); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		at := int64(len(good) / 4)
		for i := 0; ; i = (i + 4096) % len(good) {
			select {
			case <-done:
				return
			default:
			}
			chunk := good[i:min(i+4096, len(good))]
			if _, err := f.WriteAt(chunk, at); err != nil {
				return
			}
			if at += int64(len(chunk)); at > growingCap {
				at = int64(len(good) / 4)
			}
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			close(done)
			wg.Wait()
			f.Close()
		})
	}
	t.Cleanup(stop)
	return Case{"growing.tar", "is still being written"}, stop
}
