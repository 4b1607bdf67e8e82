package server_test

import (
	"encoding/json"
	"testing"

	"bbimport/model"
)

// What is ours lives in bbimport's namespace; Bitbucket's paths answer
// Bitbucket's fields only.
func TestNamespaceHoldsWhatIsOurs(t *testing.T) {
	f := newFixture(t)
	f.start("a.tar")
	f.fake.Finish(1, model.StateCompleted)
	f.start("b.tar")

	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(f.do("GET", base+"/migration/imports/2", "", "").body), &fields); err != nil {
		t.Fatal(err)
	}
	for _, ours := range []string{"archive", "counts"} {
		if _, ok := fields[ours]; ok {
			t.Errorf("/rest/api job carries %q: %v", ours, fields)
		}
	}

	one := decode[model.Job](t, f.do("GET", "/rest/bbimport/1.0/imports/2", "", ""))
	if one.ID != 2 || one.Archive != "b.tar" || one.State != model.StateRunning {
		t.Errorf("namespace job 2: %+v", one)
	}
	wantError(t, f.do("GET", "/rest/bbimport/1.0/imports/9", "", ""), 404, "", "9")

	page := decode[model.Page[model.Job]](t, f.do("GET", "/rest/bbimport/1.0/imports?limit=1", "", ""))
	if len(page.Values) != 1 || page.Values[0].ID != 2 || page.IsLastPage || page.NextPageStart == nil || *page.NextPageStart != 1 {
		t.Errorf("first page of jobs: %+v", page)
	}
	page = decode[model.Page[model.Job]](t, f.do("GET", "/rest/bbimport/1.0/imports?start=1", "", ""))
	if len(page.Values) != 1 || page.Values[0].ID != 1 || page.Values[0].Archive != "a.tar" || !page.IsLastPage {
		t.Errorf("second page of jobs: %+v", page)
	}
	wantError(t, f.do("GET", "/rest/bbimport/1.0/imports", "", "", "Authorization", "Basic eDp5"), 401, "", "")
}
