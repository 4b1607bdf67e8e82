package logview

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"bbimport/model"
)

// In sampleMessages(100) the WARN ids are 6 19 32 45 58 71 84 97 and the
// ERROR ids 8 37 66 95. The pane is 80x12: 11 rows and the status line.
func TestKeys(t *testing.T) {
	tests := []struct {
		name      string
		keys      []string
		selected  string   // id of the selected message
		follow    bool     // following the newest message
		status    []string // in the status line
		screen    []string // on screen
		notScreen []string
	}{
		{name: "opens following the newest", selected: "100", follow: true,
			status: []string{"INFO 88  WARN 8  ERROR 4", "100/100 shown", "follow on"}},
		{name: "k moves up and stops following", keys: []string{"k"}, selected: "99", status: []string{"follow off"}},
		{name: "up moves up", keys: []string{"up"}, selected: "99"},
		{name: "j moves down, follow stays off", keys: []string{"k", "k", "j"}, selected: "99"},
		{name: "down at the newest keeps following", keys: []string{"down"}, selected: "100", follow: true},
		{name: "pgup moves a page", keys: []string{"pgup"}, selected: "89"},
		{name: "pgdown moves a page", keys: []string{"pgup", "pgup", "pgdown"}, selected: "89"},
		{name: "ctrl+b moves a page", keys: []string{"ctrl+b"}, selected: "89"},
		{name: "ctrl+u moves half a page", keys: []string{"ctrl+u"}, selected: "95"},
		{name: "ctrl+d moves half a page", keys: []string{"ctrl+u", "ctrl+u", "ctrl+d"}, selected: "95"},
		{name: "g goes to the oldest", keys: []string{"g"}, selected: "1",
			screen: []string{"16:00:00 INFO  (job)            Import progress: 0% of the archive read"}},
		{name: "home goes to the oldest", keys: []string{"home"}, selected: "1"},
		{name: "G goes to the newest and follows", keys: []string{"g", "G"}, selected: "100", follow: true},
		{name: "end goes to the newest and follows", keys: []string{"g", "end"}, selected: "100", follow: true},
		{name: "f stops following", keys: []string{"f"}, selected: "100", status: []string{"follow off"}},
		{name: "f follows again from anywhere", keys: []string{"g", "f"}, selected: "100", follow: true},
		{name: "n jumps to the next WARN", keys: []string{"g", "n"}, selected: "6"},
		{name: "n jumps on to an ERROR", keys: []string{"g", "n", "n"}, selected: "8"},
		{name: "N jumps to the previous WARN", keys: []string{"N"}, selected: "97"},
		{name: "N jumps back to an ERROR", keys: []string{"N", "N"}, selected: "95"},
		{name: "n says when there is none below", keys: []string{"n"}, selected: "100", follow: true,
			screen: []string{"No WARN or ERROR below among the rows shown."}},
		{name: "1 hides INFO", keys: []string{"1"}, selected: "97", follow: true,
			status: []string{"12/100 shown", "hiding INFO"}, notScreen: []string{"INFO  PRJ", "INFO  (job)"}},
		{name: "2 hides WARN", keys: []string{"2"}, selected: "100", follow: true,
			status: []string{"92/100 shown", "hiding WARN"}, notScreen: []string{"WARN  PRJ"}},
		{name: "3 hides ERROR", keys: []string{"3"}, selected: "100", follow: true,
			status: []string{"96/100 shown", "hiding ERROR"}},
		{name: "1 twice shows INFO again", keys: []string{"1", "1"}, selected: "100", follow: true,
			status: []string{"100/100 shown"}, notScreen: []string{"hiding"}},
		{name: "n among shown rows only", keys: []string{"2", "g", "n"}, selected: "8"},
		{name: "s filters by subject prefix", keys: []string{"s", "type:PRJ1", "enter"}, selected: "100", follow: true,
			status: []string{"14/100 shown", "subject PRJ1*"}, notScreen: []string{"PRJ2"}},
		{name: "s prompt shows while typing", keys: []string{"s", "type:PRJ1/repo"},
			selected: "100", follow: true, status: []string{"13/100 shown"}, screen: []string{"Subject starts with: PRJ1/repo"}},
		{name: "/ filters by text, ignoring case", keys: []string{"/", "type:RENAMED", "enter"}, selected: "97", follow: true,
			status: []string{"8/100 shown", `text "RENAMED"`}, notScreen: []string{"INFO  PRJ", "ERROR PRJ"}},
		{name: "/ matches the subject too", keys: []string{"/", "type:repo3#", "enter"}, selected: "37", follow: true,
			status: []string{"1/100 shown"}},
		{name: "/ keeps the filter while typing", keys: []string{"/", "type:renamed"}, selected: "97", follow: true,
			status: []string{"8/100 shown"}, screen: []string{"Filter text (ctrl+r regex): renamed"}},
		{name: "backspace widens the filter again", keys: []string{"/", "type:renamedx", "backspace", "enter"},
			selected: "97", follow: true, status: []string{"8/100 shown"}},
		{name: "ctrl+r switches to regex", keys: []string{"/", "ctrl+r", "type:f[0-9]+5 ", "enter"},
			selected: "66", follow: true, status: []string{`regex "f[0-9]+5 "`, "1/100 shown"}},
		{name: "an invalid regex shows an error and keeps the last rows", keys: []string{"/", "ctrl+r", "type:repo(", "enter"},
			selected: "100", follow: true, status: []string{"90/100 shown", `regex "repo"`},
			screen: []string{"Invalid regex, missing closing ) (esc undoes): repo("}},
		{name: "esc in a prompt restores the filter", keys: []string{"/", "type:renamed", "esc"}, selected: "100", follow: true,
			status: []string{"100/100 shown"}, notScreen: []string{"renamed\"", "Filter text"}},
		{name: "x clears every filter", keys: []string{"1", "s", "type:PRJ", "enter", "/", "type:renamed", "enter", "x"},
			selected: "100", follow: true, status: []string{"100/100 shown"}, notScreen: []string{"hiding", "subject", "text \""}},
		{name: "filtering to nothing says so", keys: []string{"/", "type:no such text", "enter"}, follow: true,
			status: []string{"0/100 shown"}, screen: []string{"No message matches the filters: x clears them."}},
		{name: "enter shows the whole message", keys: []string{"N", "enter"}, selected: "97",
			screen: []string{"Severity WARN", "Subject  PRJ5", "Time     2026-11-25 16:02:24.000 UTC", "ID       97",
				"Project key PRJ5 already exists on this instance; the imported project was", "renamed to PRJ5A"}},
		{name: "esc closes the whole message", keys: []string{"N", "enter", "esc"}, selected: "97",
			notScreen: []string{"Severity WARN"}},
		{name: "S asks where to save", keys: []string{"S"}, selected: "100", follow: true,
			screen: []string{"Save shown rows to (.csv for CSV): bbimport-job-42-messages.json"}},
		{name: "ctrl+s asks where to save", keys: []string{"ctrl+s"}, selected: "100", follow: true,
			screen: []string{"bbimport-job-42-messages.json"}},
		{name: "esc cancels saving", keys: []string{"ctrl+s", "esc"}, selected: "100", follow: true,
			notScreen: []string{"bbimport-job-42"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := press(pane(t, 80, 12, sampleMessages(100)), keys(tt.keys...)...)
			if got := selectedID(m); got != tt.selected {
				t.Errorf("selected message %q, want %q\n%s", got, tt.selected, screen(m))
			}
			wantFollow := "follow off"
			if tt.follow {
				wantFollow = "follow on"
			}
			status, s := statusOf(m), screen(m)
			for _, want := range append(tt.status, wantFollow) {
				if !strings.Contains(status, want) {
					t.Errorf("status line %q lacks %q", status, want)
				}
			}
			for _, want := range tt.screen {
				if !strings.Contains(s, want) {
					t.Errorf("screen lacks %q:\n%s", want, s)
				}
			}
			for _, unwanted := range tt.notScreen {
				if strings.Contains(s, unwanted) {
					t.Errorf("screen shows %q:\n%s", unwanted, s)
				}
			}
		})
	}
}

// shownIDs are the ids the pane shows, oldest first, read through Selected.
func shownIDs(m Model) []string {
	m, _ = press(m, keyOf("g"))
	var ids []string
	for {
		ids = append(ids, selectedID(m))
		next, _ := press(m, keyOf("j"))
		if selectedID(next) == selectedID(m) {
			return ids
		}
		m = next
	}
}

// TestTextFilterAgainstReference checks the filters against a plain
// implementation over every message.
func TestTextFilterAgainstReference(t *testing.T) {
	msgs := sampleMessages(300)
	tests := []struct {
		keys []string
		keep func(model.Message) bool
	}{
		{keys: []string{"/", "type:Repo1"}, keep: func(m model.Message) bool {
			return strings.Contains(strings.ToLower(m.Text+"\x00"+m.Subject), "repo1")
		}},
		{keys: []string{"/", "ctrl+r", "type:#1[0-9]{2}$"}, keep: func(m model.Message) bool {
			return regexp.MustCompile(`#1[0-9]{2}$`).MatchString(m.Subject) || regexp.MustCompile(`#1[0-9]{2}$`).MatchString(m.Text)
		}},
		{keys: []string{"2", "s", "type:PRJ3/"}, keep: func(m model.Message) bool {
			return m.Severity != model.SeverityWarn && strings.HasPrefix(m.Subject, "PRJ3/")
		}},
		{keys: []string{"1", "3", "/", "type:prj2a"}, keep: func(m model.Message) bool {
			return m.Severity == model.SeverityWarn && strings.Contains(m.Text, "PRJ2A")
		}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.keys, " "), func(t *testing.T) {
			m, _ := press(pane(t, 80, 12, msgs), keys(tt.keys...)...)
			m, _ = press(m, keyOf("enter"))
			var want []string
			for _, msg := range msgs {
				if tt.keep(msg) {
					want = append(want, msg.ID)
				}
			}
			if got := shownIDs(m); !slices.Equal(got, want) && !(len(want) == 0 && len(got) == 1 && got[0] == "") {
				t.Errorf("shown %v, want %v", got, want)
			}
		})
	}
}

func TestHighlightsMatches(t *testing.T) {
	m := New(PlainStyles())
	m.SetSize(140, 6)
	m.Append(sampleMessages(20))
	m, _ = press(m, keys("/", "type:RenAmed", "enter")...)
	// PlainStyles marks matches bold and underlined: SGR 1 and 4.
	marked := regexp.MustCompile(`\x1b\[1;4[;0-9]*mrenamed\x1b\[m`)
	if got := len(marked.FindAllString(m.View(), -1)); got != 2 {
		t.Errorf("%d matches marked, want 2:\n%q", got, m.View())
	}
}

func TestStaleFilterResultIsDropped(t *testing.T) {
	m := pane(t, 80, 12, sampleMessages(100))
	m, _ = press(m, keyOf("/"))
	m, slow := m.Update(keyOf("r")) // "r": almost everything
	m, fast := m.Update(keyOf("e")) // "re"
	m, _ = run(m, fast)
	m, _ = run(m, slow) // lands last, but is older
	if got := statusOf(m); !strings.Contains(got, `text "re"`) || strings.Contains(got, "filtering") {
		t.Errorf("status %q, want the filter \"re\" applied", got)
	}
	want := 0
	for _, msg := range sampleMessages(100) {
		if strings.Contains(strings.ToLower(msg.Text+"\x00"+msg.Subject), "re") {
			want++
		}
	}
	if got := statusOf(m); !strings.Contains(got, fmt.Sprintf("%d/100 shown", want)) {
		t.Errorf("status %q, want %d shown", got, want)
	}
}

func TestAppendFiltersOnlyTheNewMessages(t *testing.T) {
	all := sampleMessages(200)
	m := pane(t, 80, 12, all[:100])
	m, _ = press(m, keys("/", "type:renamed", "enter")...)
	m, _ = run(m, m.Append(all[100:]))
	if got := statusOf(m); !strings.Contains(got, "15/200 shown") || !strings.Contains(got, "INFO 178  WARN 15  ERROR 7") {
		t.Errorf("status %q, want 15 of 200 shown", got)
	}
	if got := selectedID(m); got != "188" {
		t.Errorf("selected %q, want the newest WARN 188 followed", got)
	}
}

func TestAppendDuringAScanIsNotLost(t *testing.T) {
	all := sampleMessages(200)
	m := pane(t, 80, 12, all[:100])
	m, _ = press(m, keyOf("/"))
	m, scan := m.Update(keyOf("r"))
	m.Append(all[100:])
	m, _ = run(m, scan)
	want := 0
	for _, msg := range all {
		if strings.Contains(strings.ToLower(msg.Text+"\x00"+msg.Subject), "r") {
			want++
		}
	}
	if got := statusOf(m); !strings.Contains(got, fmt.Sprintf("%d/200 shown", want)) {
		t.Errorf("status %q, want %d/200 shown", got, want)
	}
}

func TestLargeAppendUnderATextFilterRunsOffTheLoop(t *testing.T) {
	m := pane(t, 140, 12, sampleMessages(10))
	m, _ = press(m, keys("/", "type:renamed", "enter")...)
	cmd := m.Append(sampleMessages(parallelFrom))
	if !strings.Contains(statusOf(m), "filtering…") || cmd == nil {
		t.Fatalf("a large append under a filter should scan in a command; status %q", statusOf(m))
	}
	m, _ = run(m, cmd)
	if got := statusOf(m); strings.Contains(got, "filtering") || !strings.Contains(got, "2,471/32,778 shown") {
		t.Errorf("status %q", got)
	}
}

func TestMouseWheel(t *testing.T) {
	m := pane(t, 80, 12, sampleMessages(100))
	m, _ = m.Update(tea.MouseWheelMsg{Button: tea.MouseWheelUp})
	if got := selectedID(m); got != "97" || !strings.Contains(statusOf(m), "follow off") {
		t.Errorf("wheel up: selected %q, status %q", got, statusOf(m))
	}
	m, _ = m.Update(tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	if got := selectedID(m); got != "100" {
		t.Errorf("wheel down: selected %q", got)
	}
}

func TestCopySelectedMessage(t *testing.T) {
	m, out := press(pane(t, 80, 12, sampleMessages(100)), keys("N", "y")...)
	if len(out) != 1 || fmt.Sprintf("%T", out[0]) != "tea.setClipboardMsg" {
		t.Fatalf("y produced %#v, want one OSC 52 clipboard message", out)
	}
	if got := fmt.Sprint(out[0]); got != sampleMessages(100)[96].Text {
		t.Errorf("copied %q", got)
	}
	if !strings.Contains(screen(m), "Copied message 97 to the clipboard") {
		t.Errorf("no notice:\n%s", screen(m))
	}
}

func TestDetailScrollsALongMessage(t *testing.T) {
	msgs := sampleMessages(3)
	msgs[2].Text = strings.Repeat("word ", 200) + "END"
	m, _ := press(pane(t, 40, 8, msgs), keys("enter")...)
	if strings.Contains(screen(m), "END") {
		t.Fatalf("the end of a 1000-character message fits 7 rows of 40?\n%s", screen(m))
	}
	m, _ = press(m, keys("G")...)
	if !strings.Contains(screen(m), "END") {
		t.Errorf("G in the detail pane should show the end:\n%s", screen(m))
	}
	m, _ = press(m, keys("g", "j")...)
	if lines := strings.Split(screen(m), "\n"); !strings.HasPrefix(lines[0], "Subject") {
		t.Errorf("j should scroll one line:\n%s", screen(m))
	}
}

func TestModesTellTheConsole(t *testing.T) {
	m := pane(t, 80, 12, sampleMessages(10))
	for _, step := range []struct {
		key                 string
		capturing, wantsEsc bool
	}{
		{"/", true, true}, {"esc", false, false}, {"enter", false, true}, {"esc", false, false},
		{"S", true, true}, {"esc", false, false},
	} {
		m, _ = press(m, keyOf(step.key))
		if m.Capturing() != step.capturing || m.WantsEsc() != step.wantsEsc {
			t.Errorf("after %s: Capturing %v WantsEsc %v, want %v %v", step.key, m.Capturing(), m.WantsEsc(), step.capturing, step.wantsEsc)
		}
	}
}

func TestBlurredPaneIgnoresKeys(t *testing.T) {
	m := pane(t, 80, 12, sampleMessages(100))
	m.Blur()
	m, _ = press(m, keyOf("g"))
	m, _ = m.Update(tea.MouseWheelMsg{Button: tea.MouseWheelUp})
	if got := selectedID(m); got != "100" {
		t.Errorf("a blurred pane moved to %q", got)
	}
	m.Focus()
	if m, _ = press(m, keyOf("g")); selectedID(m) != "1" {
		t.Errorf("a focused pane ignored g")
	}
}

func TestControlCharactersAreNeutralised(t *testing.T) {
	msgs := sampleMessages(2)
	msgs[1].Text = "evil\x1b[2J\x1b]52;c;aGk=\x07 repo\nname\ttab"
	msgs[1].Subject = "PRJ/\x1b[31mred"
	m := pane(t, 80, 4, msgs)
	m.Blur()                                                      // no selection styling: PlainStyles then draws no escapes at all
	view := strings.Join(strings.Split(m.View(), "\n")[:2], "\n") // the rows, not the status line
	if strings.ContainsAny(view, "\x1b\x07\t") {
		t.Errorf("control characters reach the terminal: %q", view)
	}
	if !strings.Contains(view, "evil [2J ]52;c;aGk=  repo name tab") {
		t.Errorf("text not shown with spaces for controls: %q", view)
	}
}

func TestSave(t *testing.T) {
	dir := t.TempDir()
	msgs := sampleMessages(100)
	var warns []model.Message
	for _, msg := range msgs {
		if msg.Severity == model.SeverityWarn {
			warns = append(warns, msg)
		}
	}
	save := func(t *testing.T, path string) Model {
		t.Helper()
		m, _ := press(pane(t, 80, 12, msgs), keys("1", "3", "S", "ctrl+u", "type:"+path, "enter")...)
		return m
	}

	t.Run("json", func(t *testing.T) {
		path := filepath.Join(dir, "log.json")
		m := save(t, path)
		if want := "Saved 8 messages to " + path; !strings.Contains(screen(m), want) {
			t.Errorf("screen lacks %q:\n%s", want, screen(m))
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var got []model.Message
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("saved JSON does not parse: %v\n%s", err, b)
		}
		if !slices.Equal(got, warns) {
			t.Errorf("saved %v, want %v", got, warns)
		}
		if !strings.Contains(string(b), `{"id":"6","severity":"WARN","subject":"PRJ5","text":"Project key PRJ5 already exists`) {
			t.Errorf("not the REST shape:\n%s", b)
		}
	})
	t.Run("csv", func(t *testing.T) {
		path := filepath.Join(dir, "log.csv")
		save(t, path)
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 9 || !slices.Equal(rows[0], []string{"id", "createdDate", "severity", "subject", "text"}) ||
			!slices.Equal(rows[1][:4], []string{"6", "2026-11-25T16:00:07.500Z", "WARN", "PRJ5"}) {
			t.Errorf("CSV rows: %q", rows)
		}
	})
	t.Run("unwritable", func(t *testing.T) {
		before, _ := os.ReadDir(dir)
		m := save(t, filepath.Join(dir, "missing", "log.json"))
		if s := screen(m); !strings.Contains(s, "Save failed: no such file or directory: "+dir) {
			t.Errorf("no clear error:\n%s", s)
		}
		if after, _ := os.ReadDir(dir); len(after) != len(before) {
			t.Errorf("left files behind: %v", after)
		}
	})
}

// TestScanRunsWhileMessagesArrive runs a whole-log scan in its own
// goroutine, as Bubble Tea does, while Update appends: under -race this
// checks that a scan only reads what it was given.
func TestScanRunsWhileMessagesArrive(t *testing.T) {
	all := sampleMessages(3 * parallelFrom)
	first := 2 * parallelFrom // large enough for the scan to split across cores
	m := pane(t, 80, 12, all[:first])
	m, _ = press(m, keyOf("/"))
	m, cmd := m.Update(keyOf("q")) // in "Pull request": the ERROR messages
	results := make(chan []tea.Msg)
	go func() {
		var msgs []tea.Msg
		var collect func(tea.Cmd)
		collect = func(c tea.Cmd) {
			if c == nil {
				return
			}
			switch msg := c().(type) {
			case tea.BatchMsg:
				for _, c := range msg {
					collect(c)
				}
			default:
				msgs = append(msgs, msg)
			}
		}
		collect(cmd)
		results <- msgs
	}()
	for i := first; i < len(all); i += 100 {
		m.Append(all[i:min(i+100, len(all))])
	}
	for _, msg := range <-results {
		m, _ = m.Update(msg)
	}
	want := 0
	for _, msg := range all {
		if strings.Contains(strings.ToLower(msg.Text+"\x00"+msg.Subject), "q") {
			want++
		}
	}
	if got := statusOf(m); !strings.Contains(got, fmt.Sprintf("%s/%s shown", count(want), count(len(all)))) {
		t.Errorf("status %q, want %d of %d shown", got, want, len(all))
	}
}

// TestBackspaceReusesAnEarlierResult types a filter, appends messages,
// then goes back letter by letter and toggles a severity back: each
// earlier result comes back at once, with the new messages filtered in.
func TestBackspaceReusesAnEarlierResult(t *testing.T) {
	all := sampleMessages(400)
	m := pane(t, 80, 12, all[:200])
	m, _ = press(m, keys("1", "/", "type:pr")...) // "p" keeps every row, "pr" some
	m, _ = run(m, m.Append(all[200:]))
	reference := func(text string, info bool) int {
		n := 0
		for _, msg := range all {
			if (info || msg.Severity != model.SeverityInfo) &&
				strings.Contains(strings.ToLower(msg.Text+"\x00"+msg.Subject), text) {
				n++
			}
		}
		return n
	}
	for _, step := range []struct {
		key, text string
		info      bool
	}{
		{"backspace", "p", false},
		{"backspace", "", false},
		{"esc", "", false},
	} {
		var cmd tea.Cmd
		m, cmd = m.Update(keyOf(step.key))
		if cmd != nil && step.key == "backspace" {
			t.Errorf("after %s: a scan, want the earlier result reused", step.key)
		}
		m, _ = run(m, cmd)
		want := fmt.Sprintf("%s/400 shown", count(reference(step.text, step.info)))
		if got := statusOf(m); !strings.Contains(got, want) {
			t.Errorf("after %s: status %q, want %q", step.key, got, want)
		}
	}
	m, cmd := m.Update(keyOf("1"))
	if cmd != nil {
		t.Error("showing INFO again scanned the log, want the earlier result reused")
	}
	if got, want := shownIDs(m), shownIDs(pane(t, 80, 12, all)); !slices.Equal(got, want) {
		t.Errorf("after showing INFO again: %d rows shown, want %d", len(got), len(want))
	}
}
