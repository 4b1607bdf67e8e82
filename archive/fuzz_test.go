package archive

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"bbimport/model"
)

// FuzzRead feeds the reader mutated archives. It must never panic or
// hang, and every failure must be an *Error that names a rule: a plain
// error here would mean some case reaches a user without explanation.
func FuzzRead(f *testing.F) {
	whole := sampleArchive(f)
	f.Add(whole)
	f.Add(whole[:len(whole)/2])
	f.Add(gz(f, whole))
	f.Add(withExtra(f, entry{name: "../x", body: []byte("x")}))
	f.Add(replaced(f, KindGitMetadata, entry{name: MemberName(KindGitMetadata, idRepo),
		body: gz(f, tarOf(f, entry{name: "hooks/x", typ: '2', link: "/bin/sh"}))}))
	f.Add(replaced(f, KindGitObjects, entry{name: MemberName(KindGitObjects, idRepo),
		body: tarOf(f, entry{name: "a", body: []byte("1")}, entry{name: "a", body: []byte("2")})}))
	lim := Limits{MaxMemberBytes: 1 << 20, MaxJSONBytes: 1 << 16, MaxJSONDepth: 32, MaxInnerFiles: 100, MaxObjectFileBytes: 1 << 20}
	f.Fuzz(func(t *testing.T, b []byte) {
		err := Read(bytes.NewReader(b), lim, func(m *Member) error {
			if err := m.Activities(func(*model.Activity) error { return nil }); err != nil && m.Malformed == nil {
				return err
			}
			return m.Files(func(f File) error {
				_, err := io.Copy(io.Discard, f.Body)
				return err
			})
		})
		var e *Error
		if err != nil && (!errors.As(err, &e) || e.Rule == "") {
			t.Fatalf("error without a rule: %v", err)
		}
	})
}
