package logview

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"bbimport/model"
)

// plainFilter is the filter as its help describes it, with none of the
// pane's shortcuts: the rows it shows, as message ids.
func plainFilter(msgs []model.Message, hidden map[model.Severity]bool, subject, text string, regex bool) []string {
	var re *regexp.Regexp
	if regex {
		re = regexp.MustCompile("(?i)" + text)
	}
	contains := func(s string) bool {
		if re != nil {
			return re.MatchString(s)
		}
		return strings.Contains(strings.ToLower(s), strings.ToLower(text))
	}
	var ids []string
	for _, msg := range msgs {
		if hidden[msg.Severity] || !strings.HasPrefix(msg.Subject, subject) {
			continue
		}
		if text == "" || contains(msg.Text) || (msg.Subject != "" && contains(msg.Subject)) {
			ids = append(ids, msg.ID)
		}
	}
	return ids
}

// viewIDs are the ids of every row of the view, read directly: at
// 100,000 rows, shownIDs's key presses take too long.
func viewIDs(m Model) []string {
	ids := make([]string, len(m.view))
	for k, i := range m.view {
		ids[k] = m.entries[i].id
	}
	return ids
}

// withoutStatus is the screen without its status line, which tells
// whether the count is final.
func withoutStatus(m Model) string {
	s := screen(m)
	return s[:strings.LastIndex(s, "\n")]
}

// TestKeystrokeFrameIsTheLandedFrame types filter keys over 100,000
// messages: the frame right after each key (the rows it found itself) must
// be the frame of the whole result, and that result the plain filter's.
func TestKeystrokeFrameIsTheLandedFrame(t *testing.T) {
	msgs := sampleMessages(100_000)
	info := map[model.Severity]bool{model.SeverityInfo: true}
	for _, tc := range []struct {
		name    string
		setup   []string
		key     string
		hidden  map[model.Severity]bool
		subject string
		text    string
		regex   bool
	}{
		{name: "first letter, all match", setup: []string{"/"}, key: "p", text: "p"},
		{name: "hide INFO, following", key: "1", hidden: info},
		{name: "hide INFO, in the middle", setup: []string{"g", "pgdown", "pgdown", "j"}, key: "1", hidden: info},
		{name: "first letter, in the middle", setup: []string{"g", "pgdown", "/"}, key: "i", text: "i"},
		{name: "narrowing under a severity", setup: []string{"1", "/", "type:renamed to PRJ"}, key: "3", hidden: info, text: "renamed to PRJ3"},
		{name: "regex with a literal prefix", setup: []string{"/", "ctrl+r", "type:feature/f[0-9]+"}, key: "7", text: "feature/f[0-9]+7", regex: true},
		{name: "subject prefix", setup: []string{"s", "type:PRJ3/repo"}, key: "1", subject: "PRJ3/repo1"},
		{name: "a letter no message holds", setup: []string{"/"}, key: "z", text: "z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := pane(t, 120, 20, msgs)
			m, _ = press(m, keys(tc.setup...)...)
			m, cmd := m.Update(keyOf(tc.key))
			frame, status, found, short := withoutStatus(m), statusOf(m), viewIDs(m), m.short
			landed, _ := run(m, cmd)
			want := plainFilter(msgs, tc.hidden, tc.subject, tc.text, tc.regex)
			switch {
			case short: // out of time (a loaded machine, a rare match): the rows found are matches in a row
				if len(found) == 0 {
					break
				}
				if at := slices.Index(want, found[0]); at < 0 || !slices.Equal(want[at:min(len(want), at+len(found))], found) {
					t.Errorf("the keystroke found %v, not consecutive matches", found)
				}
			case withoutStatus(landed) != frame:
				t.Errorf("the keystroke's frame (status %q):\n%s\nthe landed frame (status %q):\n%s", status, frame, statusOf(landed), withoutStatus(landed))
			}
			if got := viewIDs(landed); !slices.Equal(got, want) {
				t.Errorf("%d rows landed, the plain filter shows %d", len(got), len(want))
			}
			if cmd != nil && !strings.Contains(status, "≥") {
				t.Errorf("status %q while scanning, want the count as a lower bound", status)
			}
		})
	}
}

func TestRegexPrefixFindsOtherCases(t *testing.T) {
	msgs := sampleMessages(3)
	msgs[0].Text = "\u212Aelvin reached" // the Kelvin sign, an upper-case k to (?i)
	msgs[1].Text = "FEATURE/F12 is missing"
	m := pane(t, 80, 8, msgs)
	for _, tc := range []struct{ regex, want string }{{"kelvin r.ached", "1"}, {"feature/f[0-9]", "2"}} {
		m, _ := press(m, keys("/", "ctrl+r", "type:"+tc.regex, "enter")...)
		if got := shownIDs(m); !slices.Equal(got, []string{tc.want}) {
			t.Errorf("regex %q shows %v, want [%s]", tc.regex, got, tc.want)
		}
	}
}
