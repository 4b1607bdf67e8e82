package archive

import (
	"bytes"
	"errors"
	"testing"

	"bbimport/model"
)

// A version-1 archive as Data Center 6.1.1 writes one: instance details
// with Jackson's spacing, a project without a description.
const (
	v1Instance = `{"product" : "Bitbucket", "version" : "6.1.1", "buildVersion" : "6001001", "archiveVersion" : 1,` +
		` "dataCenter" : false, "instanceName" : "Bitbucket", "nodeId" : "n1"}`
	v1Project = `{"id":"1","key":"FIX","name":"Fixture Project","public":false,"type":0}`
)

func TestArchiveVersion1ReadsAsVersion2(t *testing.T) {
	es := sampleEntries(t)
	es[0].body = gz(t, []byte(v1Instance))
	es[1].body = gz(t, []byte(v1Project))
	v1, err := readEverything(bytes.NewReader(tarOf(t, es...)))
	if err != nil {
		t.Fatal(err)
	}
	v2, err := readEverything(bytes.NewReader(sampleArchive(t)))
	if err != nil {
		t.Fatal(err)
	}
	want := model.InstanceDetails{ArchiveVersion: 1, BuildVersion: "6001001", InstanceName: "Bitbucket", NodeID: "n1",
		Product: "Bitbucket", Version: "6.1.1"}
	if got := *v1.byKind[KindInstanceDetails].Instance; got != want {
		t.Errorf("instance details %+v, want %+v", got, want)
	}
	if got := *v1.byKind[KindProject].Project; got != sampleProject {
		t.Errorf("version-1 project %+v, want %+v", got, sampleProject)
	}
	if len(v1.kinds) != len(v2.kinds) || len(v1.notes) != 0 {
		t.Errorf("version 1 gave %d members and notes %q; version 2 %d members", len(v1.kinds), v1.notes, len(v2.kinds))
	}
	for _, m := range v1.byKind {
		if len(m.UnknownFields) != 0 {
			t.Errorf("%s: unknown fields %q", m.Name, m.UnknownFields)
		}
	}
}

// The project type reads as a number or a name in any version:
// 0 is NORMAL, 1 is PERSONAL.
func TestProjectTypeReadsAsNumberOrName(t *testing.T) {
	for body, want := range map[string]model.ProjectType{
		`0`: model.ProjectTypeNormal, `1`: model.ProjectTypePersonal,
		`"NORMAL"`: model.ProjectTypeNormal, `"PERSONAL"`: model.ProjectTypePersonal, `"personal"`: model.ProjectTypePersonal,
	} {
		for _, version := range []string{"1", "2"} {
			es := sampleEntries(t)
			es[0].body = gz(t, []byte(`{"archiveVersion":`+version+`}`))
			es[1].body = gz(t, []byte(`{"id":"1","key":"~ADA","name":"Ada","public":false,"type":`+body+`}`))
			s, err := readEverything(bytes.NewReader(tarOf(t, es...)))
			if err != nil {
				t.Fatalf("type %s, version %s: %v", body, version, err)
			}
			if got := s.byKind[KindProject].Project.Type; got != want {
				t.Errorf("type %s, version %s read as %v, want %v", body, version, got, want)
			}
		}
	}
	name := MemberName(KindProject, idRepo)
	checkViolation(t, violation{archive: replaced(t, KindProject, entry{name: name,
		body: gz(t, []byte(`{"id":"1","key":"FIX","name":"F","type":"TEAM"}`))}),
		err: ErrMalformed, member: name, rule: `project type "TEAM" is neither NORMAL nor PERSONAL`})
}

func TestArchiveVersionsOtherThan1And2AreRefused(t *testing.T) {
	for _, v := range []string{"0", "3", "-1"} {
		es := sampleEntries(t)
		es[0].body = gz(t, []byte(`{"archiveVersion":`+v+`}`))
		_, err := readEverything(bytes.NewReader(tarOf(t, es...)))
		if !errors.Is(err, ErrUnsupportedVersion) {
			t.Errorf("archiveVersion %s: got %v, want %v", v, err, ErrUnsupportedVersion)
		}
	}
}
