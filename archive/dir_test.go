package archive

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestDirSeesACopyInProgress(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.tar")
	if err := os.WriteFile(path, []byte("part"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := NewDir(dir)
	ctx := context.Background()
	files, err := d.List(ctx)
	if err != nil || len(files) != 1 || files[0].Growing {
		t.Fatalf("first listing %+v (%v)", files, err)
	}
	if err := os.WriteFile(path, []byte("part and more"), 0o644); err != nil {
		t.Fatal(err)
	}
	files, err = d.List(ctx)
	if err != nil || len(files) != 1 || !files[0].Growing {
		t.Fatalf("listing after the file grew %+v (%v); want it marked growing", files, err)
	}
	if files, _ = d.List(ctx); files[0].Growing {
		t.Error("a file that stopped changing is still marked growing")
	}
	if d.Dir() != dir {
		t.Errorf("Dir() = %q", d.Dir())
	}
}
