package archive

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"bbimport/model"
)

// ListArchives lists the .tar entries of the import directory dir, newest
// first. Only readable regular files can be imported: a symbolic link could
// point out of the directory, where Bitbucket would not read either. The
// other .tar entries are listed with Unusable saying why. Growing is set on a
// file whose size or modification time differs from its entry in prev,
// the previous listing: a copy still in progress.
func ListArchives(dir string, prev []model.ArchiveFile) ([]model.ArchiveFile, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("import directory %s does not exist: create it (mkdir -p %s) and copy the export archive into it", dir, dir)
	}
	if errors.Is(err, fs.ErrPermission) {
		return nil, fmt.Errorf("import directory %s: %s", dir, deniedOnTheWay(dir, true))
	}
	if err != nil {
		return nil, fmt.Errorf("list the import directory %s: %w", dir, err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("list the import directory %s: %w", dir, err)
	}
	before := map[string]model.ArchiveFile{}
	for _, p := range prev {
		before[p.Name] = p
	}
	files := []model.ArchiveFile{}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".tar") {
			continue
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since ReadDir
		}
		if err != nil {
			return nil, fmt.Errorf("list the import directory %s: %w", dir, err)
		}
		a := model.ArchiveFile{Name: e.Name(), Path: filepath.Join(abs, e.Name()), Size: fi.Size(), ModTime: fi.ModTime()}
		a.Unusable = unusable(a.Path, fi)
		if p, ok := before[a.Name]; ok && (p.Size != a.Size || !p.ModTime.Equal(a.ModTime)) {
			a.Growing = true
		}
		files = append(files, a)
	}
	sort.SliceStable(files, func(i, j int) bool {
		// What can be imported comes first: the newest usable archive is
		// the one the console highlights.
		if ui, uj := files[i].Unusable != "", files[j].Unusable != ""; ui != uj {
			return uj
		}
		if !files[i].ModTime.Equal(files[j].ModTime) {
			return files[i].ModTime.After(files[j].ModTime)
		}
		return files[i].Name < files[j].Name
	})
	return files, nil
}

// unusable says why the entry at path cannot be imported, "" when it can.
func unusable(path string, fi fs.FileInfo) string {
	mode := fi.Mode()
	switch {
	case mode&fs.ModeSymlink != 0:
		target, err := os.Readlink(path)
		if err != nil {
			return "a symbolic link; copy the archive file itself here"
		}
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return fmt.Sprintf("a broken symbolic link: its target %s does not exist; copy the archive file itself here", target)
		}
		return fmt.Sprintf("a symbolic link to %s; copy the archive file itself here", target)
	case mode.IsDir():
		return "a directory, not an archive file; an export archive is a single .tar file"
	case mode&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO), not an archive file; copy the archive file itself here"
	case !mode.IsRegular():
		return fmt.Sprintf("not a regular file (%s); copy the archive file itself here", mode.Type())
	}
	f, err := os.Open(path)
	if err == nil {
		f.Close()
		return ""
	}
	if errors.Is(err, fs.ErrPermission) {
		return deniedOnTheWay(path, false)
	}
	return fmt.Sprintf("cannot be opened: %v", err)
}

// deniedOnTheWay says why this user may not read path (a directory to list
// when dir is set, else a file), after a permission error: the owner and
// mode of the first directory on the way it may not enter, or of path
// itself, and what to change. It never says more than the error did when
// nothing on the way can be examined.
func deniedOnTheWay(path string, dir bool) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "permission denied"
	}
	var parents []string
	for d := filepath.Dir(abs); ; d = filepath.Dir(d) {
		parents = append(parents, d)
		if d == filepath.Dir(d) {
			break
		}
	}
	for i := len(parents) - 1; i >= 0; i-- {
		if unix.Access(parents[i], unix.X_OK) != nil {
			return denied(parents[i], "the directory "+parents[i]+" on the way is ", "not open to", "open it (chmod a+x "+parents[i])
		}
	}
	if dir {
		return denied(abs, "", "not readable by", "make it readable (chmod a+rx "+abs)
	}
	return denied(abs, "", "not readable by", "make it readable (chmod a+r")
}

// denied is the sentence for a permission refusal on path: who owns it,
// its mode, that this user may not use it, and the change that lets them.
func denied(path, subject, refused, fix string) string {
	fi, err := os.Lstat(path)
	if err != nil {
		return "permission denied"
	}
	return fmt.Sprintf("permission denied: %sowned by %s with mode %s, %s %s; %s, or chown)",
		subject, ownerOf(fi), fi.Mode(), refused, currentUser(), fix)
}

// ownerOf names the file's owner, by number when the name is not known.
func ownerOf(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "another user"
	}
	id := strconv.FormatUint(uint64(st.Uid), 10)
	if u, err := user.LookupId(id); err == nil {
		return u.Username
	}
	return "uid " + id
}

func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "uid " + strconv.Itoa(os.Getuid())
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
