package archive

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"bbimport/model"
)

// ListArchives lists the .tar files in the import directory dir, newest
// first. Only regular files count: a symbolic link could point out of the
// directory, where Bitbucket would not read either. Growing is set on a
// file whose size or modification time differs from its entry in prev,
// the previous listing: a copy still in progress.
func ListArchives(dir string, prev []model.ArchiveFile) ([]model.ArchiveFile, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("import directory %s does not exist: create it (mkdir -p %s) and copy the export archive into it", dir, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("list import directory: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("list import directory: %w", err)
	}
	before := map[string]model.ArchiveFile{}
	for _, p := range prev {
		before[p.Name] = p
	}
	files := []model.ArchiveFile{}
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), ".tar") {
			continue
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since ReadDir
		}
		if err != nil {
			return nil, fmt.Errorf("list import directory: %w", err)
		}
		a := model.ArchiveFile{Name: e.Name(), Path: filepath.Join(abs, e.Name()), Size: fi.Size(), ModTime: fi.ModTime()}
		if p, ok := before[a.Name]; ok && (p.Size != a.Size || !p.ModTime.Equal(a.ModTime)) {
			a.Growing = true
		}
		files = append(files, a)
	}
	sort.SliceStable(files, func(i, j int) bool {
		if !files[i].ModTime.Equal(files[j].ModTime) {
			return files[i].ModTime.After(files[j].ModTime)
		}
		return files[i].Name < files[j].Name
	})
	return files, nil
}

// FreeBytes returns the bytes free to an unprivileged user on the file
// system that holds dir, for the pre-flight check before an import.
func FreeBytes(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("free space of %s: %w", dir, err)
	}
	return int64(st.Bavail) * st.Bsize, nil
}
