package model

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestMessageCreatedDateForms(t *testing.T) {
	const want = Millis(1497657603000) // 2017-06-17T00:00:03Z
	for _, in := range []string{
		`1497657603000`,
		`"1497657603000"`,
		`"2017-06-17T00:00:03Z"`,
		`"2017-06-17T00:00:03.000Z"`,
		`"2017-06-17T02:00:03+02:00"`,
		`"2017-06-17T02:00:03.000+0200"`,
		`"2017-06-17T00:00:03"`,
		`"2017-06-17T00:00:03.000"`,
	} {
		var m Message
		if err := json.Unmarshal([]byte(`{"id":"1","severity":"WARN","text":"t","createdDate":`+in+`}`), &m); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if m.CreatedDate != want {
			t.Errorf("%s: got %d, want %d", in, m.CreatedDate, want)
		}
	}
	var m Message
	if err := json.Unmarshal([]byte(`{"createdDate":"yesterday"}`), &m); err == nil {
		t.Error("a date that is no date was accepted")
	}
	out, _ := json.Marshal(Message{ID: "1", Severity: SeverityInfo, Text: "t", CreatedDate: want})
	if string(out) != `{"id":"1","severity":"INFO","text":"t","createdDate":1497657603000}` {
		t.Errorf("written as %s: subject must be absent and the date a number", out)
	}
}

func TestFailedTreatsCompletedWithErrorsAsFailed(t *testing.T) {
	if StateCompleted.Failed(false) || !StateCompleted.Failed(true) {
		t.Error("COMPLETED is failed exactly when it has ERROR messages")
	}
	for _, s := range []State{StateFailed, StateAborted, StateTimedOut} {
		if !s.Failed(false) || !s.Finished() {
			t.Errorf("%s must be finished and failed", s)
		}
	}
	if StateCanceled.Failed(false) || !StateCanceled.Finished() || StateCanceling.Finished() || State("NEW").Finished() {
		t.Error("CANCELED is finished, not failed; CANCELING and unknown states are not finished")
	}
}

func TestUserIDRoundTrip(t *testing.T) {
	for _, s := range []string{"ada|Ada Lovelace||NORMAL", "ci|Build | Bot||SERVICE"} {
		u, err := ParseUserID(s)
		if err != nil || u.String() != s {
			t.Errorf("%s: %+v %v", s, u, err)
		}
	}
	u, _ := ParseUserID("ci|Build | Bot||SERVICE")
	if u.Slug != "ci" || u.DisplayName != "Build | Bot" || u.Type != UserTypeService {
		t.Errorf("parsed %+v", u)
	}
	if _, err := ParseUserID("nobody"); err == nil {
		t.Error("a user id without fields was accepted")
	}
}

func TestRunningImportNamesRunnerAndStarter(t *testing.T) {
	for _, c := range []struct {
		r    RunningImport
		want string
	}{
		{RunningImport{JobID: 5, PID: 13454, StarterPID: 13400, Command: "./bbimport serve"}, "job 5, run by process 13454, started by process 13400 (./bbimport serve)"},
		{RunningImport{JobID: 5, PID: 13400, StarterPID: 13400, Command: "./bbimport serve"}, "job 5, run by process 13400 (./bbimport serve)"},
		{RunningImport{JobID: 5}, "job 5"},
	} {
		if got := c.r.Error(); !strings.HasSuffix(got, c.want) {
			t.Errorf("%+v says %q; want it to end %q", c.r, got, c.want)
		}
	}
}
