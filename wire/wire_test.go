package wire

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"testing"

	"bbimport/model"
)

// Every path a builder makes must reach the server's route for it with the
// same values: the two sides share the patterns.
func TestBuildersMatchRoutes(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		built   string
		want    map[string]string
	}{
		{PathImport, ImportPath(42), map[string]string{WildJobID: "42"}},
		{PathImportCancel, ImportCancelPath(7), map[string]string{WildJobID: "7"}},
		{PathImportMessages, ImportMessagesPath(3, model.MessageQuery{}), map[string]string{WildJobID: "3"}},
		{PathProject, ProjectPath("PRJ"), map[string]string{WildProjectKey: "PRJ"}},
		{PathProject, ProjectPath("A/B C"), map[string]string{WildProjectKey: "A/B C"}},
	} {
		mux := http.NewServeMux()
		var got map[string]string
		mux.HandleFunc(Prefix+tc.pattern, func(_ http.ResponseWriter, r *http.Request) {
			got = map[string]string{}
			for name := range tc.want {
				got[name] = r.PathValue(name)
			}
		})
		mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", Prefix+tc.built, nil))
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s routed to %s with %v, want %v", tc.built, tc.pattern, got, tc.want)
		}
	}
}

func TestMessagesPathQuery(t *testing.T) {
	got := ImportMessagesPath(5, model.MessageQuery{Severities: []model.Severity{model.SeverityWarn, model.SeverityError},
		Subject: "PRJ/repo#1", Start: 50, Limit: 25})
	want := "/migration/imports/5/messages?limit=25&severity=WARN&severity=ERROR&start=50&subject=PRJ%2Frepo%231"
	if got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	if got := ImportMessagesPath(5, model.MessageQuery{}); got != "/migration/imports/5/messages?start=0" {
		t.Errorf("no limit means the server's default: %s", got)
	}
}

func TestParseMessageQuery(t *testing.T) {
	for _, tc := range []struct {
		query     string
		want      model.MessageQuery
		wantField string
	}{
		{"", model.MessageQuery{Start: 0, Limit: 25}, ""},
		{"start=-3&limit=0", model.MessageQuery{Start: 0, Limit: 25}, ""},
		{"start=10&limit=5000", model.MessageQuery{Start: 10, Limit: 1000}, ""},
		{"severity=warn&severity=ERROR&subject=PRJ", model.MessageQuery{Limit: 25, Subject: "PRJ",
			Severities: []model.Severity{model.SeverityWarn, model.SeverityError}}, ""},
		{"limit=ten", model.MessageQuery{}, "limit"},
		{"start=1.5", model.MessageQuery{}, "start"},
		{"severity=LOUD", model.MessageQuery{}, "severity"},
	} {
		v, _ := url.ParseQuery(tc.query)
		got, err := ParseMessageQuery(v)
		var fe *FieldError
		switch {
		case tc.wantField != "":
			if !errors.As(err, &fe) || fe.Field != tc.wantField {
				t.Errorf("%q: error %v, want one naming %s", tc.query, err, tc.wantField)
			}
		case err != nil || !reflect.DeepEqual(got, tc.want):
			t.Errorf("%q: %+v %v, want %+v", tc.query, got, err, tc.want)
		}
	}
}

func TestParseSeverityList(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []model.Severity
		wantErr string
	}{
		{"", nil, ""},
		{"INFO,WARN", []model.Severity{model.SeverityInfo, model.SeverityWarn}, ""},
		{" error , warn", []model.Severity{model.SeverityError, model.SeverityWarn}, ""},
		{"WARN,LOUD", nil, `severity "LOUD" is not one of INFO, WARN, ERROR`},
		{"WARN,", nil, `severity "" is not one of INFO, WARN, ERROR`},
	} {
		got, err := ParseSeverityList(tc.in)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("%q: error %v, want %s", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: %v %v, want %v", tc.in, got, err, tc.want)
		}
	}
}

func ints(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func pageJSON[T any](t *testing.T, p model.Page[T]) string {
	t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPageBuilding(t *testing.T) {
	for _, tc := range []struct {
		name string
		page model.Page[int]
		want string
	}{
		{"first of three", PageOf(ints(5), 0, 2), `{"size":2,"limit":2,"isLastPage":false,"start":0,"nextPageStart":2,"values":[0,1]}`},
		{"last, short", PageOf(ints(5), 4, 2), `{"size":1,"limit":2,"isLastPage":true,"start":4,"values":[4]}`},
		{"last, exact", PageOf(ints(4), 2, 2), `{"size":2,"limit":2,"isLastPage":true,"start":2,"values":[2,3]}`},
		{"past the end", PageOf(ints(2), 9, 25), `{"size":0,"limit":25,"isLastPage":true,"start":9,"values":[]}`},
		{"nothing at all", PageOf[int](nil, 0, 25), `{"size":0,"limit":25,"isLastPage":true,"start":0,"values":[]}`},
		{"lookahead: more", PageLookahead(ints(3), 10, 2), `{"size":2,"limit":2,"isLastPage":false,"start":10,"nextPageStart":12,"values":[0,1]}`},
		{"lookahead: last", PageLookahead(ints(2), 10, 2), `{"size":2,"limit":2,"isLastPage":true,"start":10,"values":[0,1]}`},
		{"complete drops a last page's next", Complete(model.Page[int]{Start: 3, IsLastPage: true, NextPageStart: new(9), Values: []int{1}}),
			`{"size":1,"limit":0,"isLastPage":true,"start":3,"values":[1]}`},
		{"complete adds a missing next", Complete(model.Page[int]{Start: 3, Values: []int{1, 2}}),
			`{"size":2,"limit":0,"isLastPage":false,"start":3,"nextPageStart":5,"values":[1,2]}`},
	} {
		if got := pageJSON(t, tc.page); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

func TestBounds(t *testing.T) {
	for _, tc := range []struct{ start, limit, wantStart, wantLimit int }{
		{0, 0, 0, 25}, {-1, -1, 0, 25}, {5, 1000, 5, 1000}, {5, 1001, 5, 1000}, {7, 3, 7, 3},
	} {
		if s, l := Bounds(tc.start, tc.limit); s != tc.wantStart || l != tc.wantLimit {
			t.Errorf("Bounds(%d, %d) = %d, %d", tc.start, tc.limit, s, l)
		}
	}
}

func TestNext(t *testing.T) {
	p := func(last bool, next *int, n int) model.Page[int] {
		return model.Page[int]{IsLastPage: last, NextPageStart: next, Values: ints(n)}
	}
	for _, tc := range []struct {
		name     string
		page     model.Page[int]
		wantNext int
		wantMore bool
	}{
		{"advances", p(false, new(20), 10), 20, true},
		{"last page", p(true, nil, 4), 14, false},
		{"no nextPageStart", p(false, nil, 3), 13, false},
		{"nextPageStart equals start", p(false, new(10), 2), 12, false},
		{"nextPageStart goes back", p(false, new(0), 2), 12, false},
	} {
		next, more := Next(10, tc.page)
		if next != tc.wantNext || more != tc.wantMore {
			t.Errorf("%s: %d %v, want %d %v", tc.name, next, more, tc.wantNext, tc.wantMore)
		}
	}
}

// A server that repeats a page's nextPageStart must not make a reader loop.
func TestEachStopsOnAPageThatDoesNotAdvance(t *testing.T) {
	var fetched []int
	var seen []int
	next, err := Each(context.Background(), 0, func(_ context.Context, start int) (model.Page[int], error) {
		fetched = append(fetched, start)
		stuck := 2
		return model.Page[int]{Start: start, Values: []int{start, start + 1}, NextPageStart: &stuck}, nil
	}, func(v int) error { seen = append(seen, v); return nil })
	if err != nil || next != 4 || !reflect.DeepEqual(fetched, []int{0, 2}) || !reflect.DeepEqual(seen, []int{0, 1, 2, 3}) {
		t.Errorf("fetched %v, seen %v, next %d, err %v", fetched, seen, next, err)
	}
}

func TestEachFollowsPagesAndResumes(t *testing.T) {
	all := ints(7)
	fetch := func(_ context.Context, start int) (model.Page[int], error) { return PageOf(all, start, 3), nil }
	var seen []int
	next, err := Each(context.Background(), 1, fetch, func(v int) error { seen = append(seen, v); return nil })
	if err != nil || next != 7 || !reflect.DeepEqual(seen, all[1:]) {
		t.Errorf("seen %v next %d err %v", seen, next, err)
	}

	stop := errors.New("stop")
	next, err = Each(context.Background(), 0, fetch, func(v int) error {
		if v == 4 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || next != 5 {
		t.Errorf("a visit error resumes past the value it stopped at: next %d err %v", next, err)
	}

	broken := fmt.Errorf("page 3: %w", stop)
	next, err = Each(context.Background(), 0, func(_ context.Context, start int) (model.Page[int], error) {
		if start > 0 {
			return model.Page[int]{}, broken
		}
		return PageOf(all, start, 3), nil
	}, func(int) error { return nil })
	if !errors.Is(err, broken) || next != 3 {
		t.Errorf("a fetch error resumes at the page that failed: next %d err %v", next, err)
	}
}

func TestPagesStopsWhenTheCallerDoes(t *testing.T) {
	calls := 0
	for range Pages(context.Background(), 0, func(_ context.Context, start int) (model.Page[int], error) {
		calls++
		return PageOf(ints(100), start, 10), nil
	}) {
		break
	}
	if calls != 1 {
		t.Errorf("%d fetches after the caller stopped at the first page", calls)
	}
}

func TestStatusTable(t *testing.T) {
	for _, tc := range []struct {
		err         error
		status      int
		context     string
		call        Call
		readBackErr error
	}{
		{model.ErrBadArchivePath, 400, "archivePath", CallStart, model.ErrBadArchivePath},
		{model.ErrNotEnoughDisk, 400, "", CallStart, model.ErrBadArchivePath},
		{model.ErrJobNotFound, 404, "", CallJob, model.ErrJobNotFound},
		{model.ErrJobNotFound, 404, "", CallCancel, model.ErrJobNotFound},
		{model.ErrNotFound, 404, "", CallProject, model.ErrNotFound},
		{model.ErrNotFound, 404, "", CallOther, nil},
		{model.ErrJobFinished, 409, "", CallCancel, model.ErrJobFinished},
		{model.ErrImportRunning, 503, "", CallStart, model.ErrImportRunning},
		{model.ErrImportRunning, 503, "", CallJob, nil},
	} {
		status, ctx, ok := StatusOf(fmt.Errorf("wrapped: %w", tc.err))
		if !ok || status != tc.status || ctx != tc.context {
			t.Errorf("StatusOf(%v) = %d %q %v, want %d %q", tc.err, status, ctx, ok, tc.status, tc.context)
		}
		if got := ErrorOf(tc.call, status); got != tc.readBackErr { //nolint:errorlint // ErrorOf gives the very sentinel, never a wrapper
			t.Errorf("ErrorOf(%d, %d) = %v, want %v", tc.call, status, got, tc.readBackErr)
		}
	}
	if _, _, ok := StatusOf(errors.New("disk on fire")); ok {
		t.Error("an error of the server's own must not map to a status")
	}
}

func TestErrorBodyJSON(t *testing.T) {
	for _, tc := range []struct {
		body ErrorBody
		want string
	}{
		{NewErrorBody("", "No such job."), `{"errors":[{"context":null,"message":"No such job.","exceptionName":null}]}`},
		{NewErrorBody("archivePath", "Bad path."), `{"errors":[{"context":"archivePath","message":"Bad path.","exceptionName":null}]}`},
	} {
		b, _ := json.Marshal(tc.body)
		if string(b) != tc.want {
			t.Errorf("got %s, want %s", b, tc.want)
		}
	}
}

func TestErrorAnswerNamesTheException(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("project X %w", model.ErrNoSuchProject), `{"errors":[{"context":null,"message":"m","exceptionName":"com.atlassian.bitbucket.project.NoSuchProjectException"}]}`},
		{fmt.Errorf("repository X/y %w", model.ErrNoSuchRepository), `{"errors":[{"context":null,"message":"m","exceptionName":"com.atlassian.bitbucket.repository.NoSuchRepositoryException"}]}`},
		{fmt.Errorf("pull request 3 %w", model.ErrNoSuchPullRequest), `{"errors":[{"context":null,"message":"m","exceptionName":"com.atlassian.bitbucket.pull.NoSuchPullRequestException"}]}`},
		{ErrBadCredentials, `{"errors":[{"context":null,"message":"m","exceptionName":"com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException"}]}`},
		{model.ErrBadArchivePath, `{"errors":[{"context":"archivePath","message":"m","exceptionName":"com.atlassian.bitbucket.validation.ArgumentValidationException"}]}`},
		{model.ErrNotFound, `{"errors":[{"context":null,"message":"m","exceptionName":null}]}`},
		{model.ErrNotEnoughDisk, `{"errors":[{"context":null,"message":"m","exceptionName":null}]}`},
	} {
		_, body, ok := ErrorAnswer(tc.err, "m")
		b, _ := json.Marshal(body)
		if !ok || string(b) != tc.want {
			t.Errorf("ErrorAnswer(%v) = %s, want %s", tc.err, b, tc.want)
		}
	}
	// Every kind of not found is still read back as not found by status.
	for _, kind := range []error{model.ErrNoSuchProject, model.ErrNoSuchRepository, model.ErrNoSuchPullRequest} {
		status, _, _ := StatusOf(kind)
		if !errors.Is(kind, model.ErrNotFound) || ErrorOf(CallProject, status) != model.ErrNotFound { //nolint:errorlint // the very sentinel, not a kind of it
			t.Errorf("%v is not read back as model.ErrNotFound", kind)
		}
	}
}

// Every refusal of an export's start or preview that a server answers is
// read back as the same error from its status and the field it names; a
// malformed selector, which a client checks itself first, reads as one
// that matches nothing.
func TestExportErrorsReadBack(t *testing.T) {
	for _, tc := range []struct {
		err, want error
	}{
		{model.ErrNoSuchSelection, model.ErrNoSuchSelection},
		{model.ErrBadSelector, model.ErrNoSuchSelection},
		{model.ErrBadExportLocation, model.ErrBadExportLocation},
		{model.ErrNotEnoughDisk, model.ErrNotEnoughDisk},
		{model.ErrExportsRunning, model.ErrExportsRunning},
	} {
		status, body, ok := ErrorAnswer(fmt.Errorf("wrapped: %w", tc.err), "m")
		if got := ErrorOfAnswer(CallExport, status, body); !ok || got != tc.want { //nolint:errorlint // the very sentinel
			t.Errorf("%v answered %d %+v reads back as %v, want %v", tc.err, status, body, got, tc.want)
		}
	}
	// An import's start keeps its reading: a 400 is a bad archive path
	// whatever field it names.
	_, body, _ := ErrorAnswer(model.ErrNotEnoughDisk, "m")
	if got := ErrorOfAnswer(CallStart, 400, body); got != model.ErrBadArchivePath { //nolint:errorlint // the very sentinel
		t.Errorf("a start's 400 with no field reads as %v", got)
	}
}
