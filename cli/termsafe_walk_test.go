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

// poisonedReport is a verify report of every kind of difference, each
// with every string poisoned, lacking something so that the advice with
// the command to run is printed too.
func poisonedReport() model.VerifyReport {
	r := poisoned[model.VerifyReport]()
	d := r.Differences[0]
	r.Differences = nil
	for _, k := range []struct{ kind, status, field string }{
		{model.VerifyHierarchy, model.VerifyMissing, ""}, {model.VerifyHierarchy, model.VerifyDiffers, model.VerifyIncomplete},
		{model.VerifyHierarchy, model.VerifyDiffers, model.VerifyChanged}, {model.VerifyRepository, model.VerifyMissing, ""},
		{model.VerifyRef, model.VerifyMissing, ""}, {model.VerifyRef, model.VerifyDiffers, "commit"},
		{model.VerifyPullRequest, model.VerifyMissing, ""}, {model.VerifyPullRequest, model.VerifyMissing, ""},
		{model.VerifyPullRequest, model.VerifyDiffers, "state"}, {model.VerifyPullRequest, model.VerifyDiffers, "title"},
		{model.VerifyPullRequest, model.VerifyDiffers, "comments"}, {model.VerifyPullRequest, model.VerifyDiffers, d.Field},
	} {
		d.Kind, d.Status, d.Field = k.kind, k.status, k.field
		r.Differences = append(r.Differences, d)
	}
	r.Hierarchies[0].Repositories[0].Status = model.VerifyMissing
	return r
}

// TestPrintersLetNoControlThrough prints exported structs whose every
// string holds escape sequences, CR, a newline and bidirectional controls
// through the text printers of inspect, status, jobs, messages, verify and
// export's preview: no line of what they print may hold anything
// termsafe.String would escape but a tab, and every field shows whole on
// its line, its newline as termsafe.String shows it.
func TestPrintersLetNoControlThrough(t *testing.T) {
	printers := map[string]func(*bytes.Buffer){
		"inspect": func(b *bytes.Buffer) { printSummary(b, poisonedText, poisoned[model.ArchiveSummary]()) },
		"status":  func(b *bytes.Buffer) { printJob(b, poisoned[model.Job]()) },
		"jobs": func(b *bytes.Buffer) {
			if err := printJobs(b, poisoned[[]model.Job]()); err != nil {
				t.Fatal(err)
			}
		},
		"messages":                func(b *bytes.Buffer) { printMessages(b, poisoned[[]model.Message]()) },
		"verify":                  func(b *bytes.Buffer) { printVerify(b, poisonedReport(), "", poisonedText) },
		"verify with a remainder": func(b *bytes.Buffer) { printVerify(b, poisonedReport(), poisonedText, poisonedText) },
		"export preview":          func(b *bytes.Buffer) { printPreview(b, poisoned[model.ExportPreview]()) },
	}
	whole := termsafe.String(poisonedText)
	for name, print := range printers {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			print(&b)
			out := b.String()
			if !strings.Contains(out, "forged") {
				t.Fatalf("the hostile text is not printed at all:\n%s", out)
			}
			for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
				// Tabs are the printers' own columns (messages leaves them to
				// its tabwriter).
				if safe := termsafe.String(line); safe != strings.ReplaceAll(line, "\t", " ") {
					t.Errorf("line %d reaches the terminal as %q; want %q", i+1, line, safe)
				}
			}
			// A field shows whole, where its newline cannot start a line.
			if n, w := strings.Count(out, "forged"), strings.Count(out, whole); n != w {
				t.Errorf("%d hostile texts printed, only %d of them as one line %q:\n%s", n, w, whole, out)
			}
		})
	}
}
