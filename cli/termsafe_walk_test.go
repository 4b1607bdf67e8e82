package cli

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"bbimport/model"
	"bbimport/termsafe"
)

// poisonedText holds the controls of both hostile texts, a bidirectional
// override and a newline.
const poisonedText = hostileText + " " + hostile + "\u202e\n"

// poison fills every string in v (through structs, pointers, slices and
// maps, each given one element) with poisonedText, so that a field added
// tomorrow is covered without this test knowing its name.
func poison(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(poisonedText)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				poison(v.Field(i))
			}
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		poison(v.Elem())
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		poison(v.Index(0))
	case reflect.Map:
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		poison(k)
		poison(e)
		v.Set(reflect.MakeMap(v.Type()))
		v.SetMapIndex(k, e)
	}
}

func poisoned[T any]() T {
	var v T
	poison(reflect.ValueOf(&v).Elem())
	return v
}

// TestPrintersLetNoControlThrough prints exported structs whose every
// string holds escape sequences, CR and bidirectional controls through the
// text printers of inspect, status, jobs and messages: no line of what
// they print may hold anything termsafe.String would escape but a tab.
func TestPrintersLetNoControlThrough(t *testing.T) {
	printers := map[string]func(*bytes.Buffer){
		"inspect": func(b *bytes.Buffer) { printSummary(b, poisonedText, poisoned[model.ArchiveSummary]()) },
		"status":  func(b *bytes.Buffer) { printJob(b, poisoned[model.Job]()) },
		"jobs": func(b *bytes.Buffer) {
			if err := printJobs(b, poisoned[[]model.Job]()); err != nil {
				t.Fatal(err)
			}
		},
		"messages": func(b *bytes.Buffer) { printMessages(b, poisoned[[]model.Message]()) },
	}
	for name, print := range printers {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			print(&b)
			if !strings.Contains(b.String(), "forged") {
				t.Fatalf("the hostile text is not printed at all:\n%s", b.String())
			}
			for i, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
				// Tabs are the printers' own columns (messages leaves them to
				// its tabwriter).
				if safe := termsafe.String(line); safe != strings.ReplaceAll(line, "\t", " ") {
					t.Errorf("line %d reaches the terminal as %q; want %q", i+1, line, safe)
				}
			}
		})
	}
}
