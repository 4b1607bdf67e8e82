package archive

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"bbimport/model"
)

// realActivities has the fields a real 9.4.18 export writes on every
// record, comment, reply and thread, pretty-printed as Bitbucket does.
const realActivities = `[ {
  "comment" : {
    "authorId" : "ada|Ada Lovelace||NORMAL",
    "comments" : [ {
      "authorId" : "bob|Bob||NORMAL",
      "comments" : [ ],
      "createdTimestamp" : 1700000600000,
      "id" : "118",
      "severity" : "NORMAL",
      "state" : "OPEN",
      "text" : "because",
      "updatedTimestamp" : 1700000600000
    } ],
    "createdTimestamp" : 1700000000000,
    "id" : "117",
    "severity" : "NORMAL",
    "state" : "OPEN",
    "text" : "why?",
    "thread" : {
      "createdTimestamp" : 1700000000000,
      "resolved" : false,
      "updatedTimestamp" : 1700000600000
    },
    "updatedTimestamp" : 1700000000000
  },
  "createdTimestamp" : 1700000000000,
  "kind" : "COMMENT:ADDED",
  "userId" : "ada|Ada Lovelace||NORMAL"
}, {
  "action" : "OPENED",
  "createdTimestamp" : 1699990000000,
  "kind" : "ACTIVITY",
  "userId" : "ada|Ada Lovelace||NORMAL"
} ]`

func TestRealActivityFieldsAreReadAtEveryDepth(t *testing.T) {
	activities := MemberName(KindPullRequestActivities, idRepo)
	s, err := readEverything(bytes.NewReader(replaced(t, KindPullRequestActivities,
		entry{name: activities, body: gz(t, []byte(realActivities))})))
	if err != nil {
		t.Fatal(err)
	}
	m := s.byKind[KindPullRequestActivities]
	if len(m.UnknownFields) != 0 || len(s.notes) != 0 {
		t.Errorf("a real activities file gave unknown fields %q and notes %q", m.UnknownFields, s.notes)
	}
	ada, bob := "ada|Ada Lovelace||NORMAL", "bob|Bob||NORMAL"
	want := []model.Activity{
		{Kind: model.KindCommentAdded, CreatedTimestamp: 1700000000000, UserID: ada, Comment: &model.Comment{
			AuthorID: ada, CreatedTimestamp: 1700000000000, UpdatedTimestamp: 1700000000000, ID: "117",
			Severity: model.SeverityNormal, State: model.CommentOpen, Text: "why?",
			Thread: &model.Thread{CreatedTimestamp: 1700000000000, UpdatedTimestamp: 1700000600000},
			Comments: []model.Comment{{AuthorID: bob, Comments: []model.Comment{}, CreatedTimestamp: 1700000600000,
				ID: "118", Severity: model.SeverityNormal, State: model.CommentOpen, Text: "because", UpdatedTimestamp: 1700000600000}}}},
		{Kind: model.KindActivity, Action: model.ActionOpened, CreatedTimestamp: 1699990000000, UserID: ada},
	}
	if !reflect.DeepEqual(s.activities, want) {
		t.Errorf("activities\n%+v\nwant\n%+v", s.activities, want)
	}
}

// activitiesWithExtras is realActivities with fields bbimport does not
// know on the record, the comment, the thread, and replies at two depths.
func activitiesWithExtras(extra string) string {
	reply := `{"authorId":"b|B||NORMAL","comments":[%s],"id":"%s","severity":"NORMAL","state":"OPEN","text":"t","version":0}`
	replies := fmt.Sprintf(reply, fmt.Sprintf(reply, "", "3"), "2")
	return `[{"kind":"COMMENT:ADDED","createdTimestamp":1,"userId":"a|A||NORMAL","` + extra + `":7,` +
		`"comment":{"id":"1","authorId":"a|A||NORMAL","text":"t","severity":"NORMAL","state":"OPEN","version":1,` +
		`"properties":{"deep":{"x":1}},"thread":{"resolved":false,"Resolved":true,"commentId":1},"comments":[` + replies + `]}}]`
}

func TestUnknownFieldsAreNamedOncePerKindAndPath(t *testing.T) {
	es := sampleEntries(t)
	first := MemberName(KindPullRequestActivities, idRepo)
	second := MemberName(KindPullRequestActivities, IDs{Repository: "15", PullRequest: 4})
	meta := MemberName(KindPullRequestMetadata, IDs{Repository: "15", PullRequest: 4})
	for i, e := range es {
		if e.name == first {
			es[i].body = gz(t, []byte(activitiesWithExtras("id")))
			es = append(es[:i+1], append([]entry{
				{name: meta, body: gz(t, []byte(`{"id":4,"title":"x","state":"OPEN","version":0,"locked":false}`))},
				{name: second, body: gz(t, []byte(activitiesWithExtras("reactions")))},
			}, es[i+1:]...)...)
			break
		}
	}
	got := map[string][]string{}
	var notes []string
	err := Read(bytes.NewReader(tarOf(t, es...)), Limits{}, func(m *Member) error {
		// Activities are decoded, and their unknown fields found, as
		// they are read.
		if err := m.Activities(func(*model.Activity) error { return nil }); err != nil {
			return err
		}
		notes = append(notes, m.Notes...)
		if m.UnknownFields != nil {
			got[m.Name] = m.UnknownFields
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		// Sorted; replies at any depth share one path; "Resolved" is
		// "resolved" to encoding/json; "properties" is not looked into.
		first:  {"comment.comments.version", "comment.properties", "comment.thread.commentId", "comment.version", "id"},
		meta:   {"locked"},
		second: {"reactions"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("unknown fields by member\n%q\nwant\n%q", got, want)
	}
	if len(notes) != 0 {
		t.Errorf("notes %q", notes)
	}
}

func TestUnknownFieldsStopAtACap(t *testing.T) {
	var fields []string
	for i := range maxUnknownFields + 50 {
		fields = append(fields, fmt.Sprintf(`"f%03d":0`, i))
	}
	lfs := MemberName(KindLFSSettings, idRepo)
	body := gz(t, []byte(`{"enabled":true,`+strings.Join(fields, ",")+`}`))
	var named int
	var notes []string
	err := Read(bytes.NewReader(replaced(t, KindLFSSettings, entry{name: lfs, body: body})), Limits{}, func(m *Member) error {
		named += len(m.UnknownFields)
		notes = append(notes, m.Notes...)
		if m.Kind == KindLFSSettings && !m.LFS.Enabled {
			t.Errorf("LFS settings decoded as %+v", m.LFS)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if named != maxUnknownFields {
		t.Errorf("%d unknown fields named, want %d", named, maxUnknownFields)
	}
	want := fmt.Sprintf("more than %d distinct unknown JSON fields: the others, from %s on, are ignored without being named", maxUnknownFields, lfs)
	if !reflect.DeepEqual(notes, []string{want}) {
		t.Errorf("notes %q, want one: %q", notes, want)
	}
}
