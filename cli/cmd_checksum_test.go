package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestChecksumCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.tar")
	if err := os.WriteFile(path, []byte("The quick brown fox jumps over the lazy dog"), 0o644); err != nil {
		t.Fatal(err)
	}
	const md5 = "9e107d9d372bb6826bd81d3542a419d6"
	const sha = "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"
	sums := "md5  " + md5 + "\nsha256  " + sha + "\n"
	for _, c := range []struct {
		args []string
		out  string
		code int
	}{
		{[]string{path}, sums, 0},
		{[]string{path, "--expect", strings.ToUpper(md5)}, sums + "matches MD5\n", 0},
		{[]string{path, "--expect", md5 + "  Bitbucket_export_1.tar"}, sums + "matches MD5\n", 0},
		{[]string{path, "--expect", sha}, sums + "matches SHA-256\n", 0},
		{[]string{path, "--expect", strings.Repeat("0", 32)}, sums + "does not match: this file differs from the one exported; copy it again\n", 1},
		{[]string{path, "--expect", "xyz"}, "", 2},
		{[]string{path, "--json", "--expect", md5}, `{
  "md5": "` + md5 + `",
  "sha256": "` + sha + `",
  "bytes": 43,
  "expect": "` + md5 + `",
  "matches": "MD5"
}
`, 0},
	} {
		out, code, err := runCmd(t, append([]string{"checksum"}, c.args...)...)
		if out != c.out || code != c.code {
			t.Errorf("checksum %q: exit %d (%v), output\n%s\nwant exit %d, output\n%s", c.args, code, err, out, c.code, c.out)
		}
	}
}
