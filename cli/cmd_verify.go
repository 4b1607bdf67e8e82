package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"bbimport/model"
	"bbimport/termsafe"
	"bbimport/verify"
)

// VerifyOptions are what verify runs with.
type VerifyOptions struct {
	IO         *streams
	Backend    func(context.Context, bool) (*backend, error)
	Invocation func() string
	JobIDs     []int64
	JSON, CSV  bool
	// Archive is --archive, found as findArchive finds it; "" without it.
	Archive        string
	AnotherArchive bool
	Remainder      string
	ReplacePartial bool
	Yes            bool
	Concurrency    int
}

// NewCmdVerify is the verify command; runF, when not nil, runs instead of
// it with the parsed options.
func NewCmdVerify(f *Factory, runF func(*VerifyOptions) error) *cobra.Command {
	opts := &VerifyOptions{IO: f.IO, Backend: f.Backend, Invocation: f.Invocation}
	cmd := &cobra.Command{
		Use:   "verify JOB [JOB...]",
		Short: "Check that everything of an import's archive is on the target",
		Long: `verify reads the archive of the first JOB again and compares it with the
target: every fork hierarchy and repository, every branch and tag at the same
commit (extra refs on the target are no difference), and every pull request
by id with its state, title and comment count. It follows the renames the
import made (project KEY -> KEY1, repository slug -> slug-1) as the jobs
recorded them; against a real Bitbucket, which cannot say, it finds them by
Bitbucket's rename rules (see docs/verify.md).

With several JOBs the first one's archive is what is expected, and a
repository is present if any of the jobs put it there whole: after importing
a remainder as job 2, 'verify 1 2' says whether everything arrived across
both.

The differences come first, one line each, saying what to do; then the
totals.

--remainder FILE writes an archive of the fork hierarchies that are missing
or incomplete, after saying what importing it will do (a project whose key
exists gets a new one, KEY1; an incomplete hierarchy is imported again
whole). A relative FILE goes into the import directory, where 'bbimport
import FILE' finds it; an existing file is never overwritten.

The job's archive is read from the import directory (with --url: the
server's, given by --import-dir or $BITBUCKET_HOME). A real Bitbucket's jobs
do not name their archive: bbimport remembers the jobs it started; name it
with --archive FILE for others.

Exit status: 0 everything is on the target; 1 something differs; 2 verify
could not run.`,
		Example: `  bbimport verify 1
  bbimport verify 1 --remainder rest.tar     # exits 1: something was missing
  bbimport import rest.tar --wait            # job 2
  bbimport verify 1 2                        # exits 0 when all arrived
  bbimport verify 1 2 --json | jq .totals
  bbimport --url https://bitbucket.example.com verify 7 --archive /data/Bitbucket_export_7.tar --csv`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.ReplacePartial && opts.Remainder == "" {
				return errors.New("--replace-partial replaces partial copies by a remainder: give --remainder FILE too")
			}
			opts.JobIDs = make([]int64, len(args))
			for i, a := range args {
				id, err := parseJobID(a)
				if err != nil {
					return err
				}
				opts.JobIDs[i] = id
			}
			if opts.Archive != "" {
				path, err := findArchive(f.ArchiveDir(), opts.Archive)
				if err != nil {
					return err
				}
				opts.Archive = path
			}
			if runF != nil {
				return runF(opts)
			}
			return runVerify(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.JSON, "json", false, "print the report as JSON")
	fl.BoolVar(&opts.CSV, "csv", false, "print the differences as CSV, one row each")
	fl.StringVar(&opts.Archive, "archive", "", "the archive to compare with, when the job does not name it (a real Bitbucket's)")
	fl.BoolVar(&opts.AnotherArchive, "another-archive", false, "with --archive: compare with it although the job imported another archive (a round trip's original); skips the size and SHA-256 check")
	fl.StringVar(&opts.Remainder, "remainder", "", "write an archive of the missing and incomplete fork hierarchies to `FILE` (relative: in the import directory)")
	fl.BoolVar(&opts.ReplacePartial, "replace-partial", false, "with --remainder: first delete the partial copies of incomplete fork hierarchies that nobody changed since the import (after asking), so that the remainder imports them under their original keys")
	fl.BoolVar(&opts.Yes, "yes", false, "with --replace-partial: delete without asking (needed when not on a terminal)")
	fl.IntVar(&opts.Concurrency, "concurrency", verify.DefaultConcurrency, "repositories compared at once")
	cmd.MarkFlagsMutuallyExclusive("json", "csv")
	return cmd
}

func runVerify(ctx context.Context, opts *VerifyOptions) error {
	b, err := opts.Backend(ctx, false)
	if err != nil {
		return err
	}
	defer b.Close()
	id, err := b.Identity(ctx)
	if err != nil {
		return err
	}
	// No import directory is fine with --archive: the error then comes
	// from verify, saying what to pass.
	dir, _ := consoleImportDir(b)
	remainder := opts.Remainder
	if remainder != "" {
		// Where `import FILE` looks for it; refused before the comparison,
		// which takes long on a large archive.
		remainder = remainderPath(dir, remainder)
		if _, err := os.Lstat(remainder); !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("the remainder archive %s exists already: remove it or name another file", remainder)
		}
	}
	v, err := newVerifier(b, dir, opts.Archive, opts.AnotherArchive, id.Location, opts.Concurrency)
	if err != nil {
		return err
	}
	report, err := v.Verify(ctx, opts.JobIDs...)
	if err != nil {
		return err
	}
	out := opts.IO.out
	switch {
	case opts.JSON:
		err = printJSON(out, report)
	case opts.CSV:
		err = printVerifyCSV(out, report)
	default:
		printVerify(out, report, remainder, opts.Invocation())
	}
	if err != nil {
		return err
	}
	// The plan goes where it does not mix with JSON or CSV.
	say := out
	if opts.JSON || opts.CSV {
		say = opts.IO.errOut
	}
	if remainder != "" {
		var confirm func() (bool, error)
		if opts.ReplacePartial {
			confirm = func() (bool, error) { return confirmDelete(opts.IO, say, opts.Yes) }
		}
		if err := writeRemainder(ctx, v, report, remainder, dir, say, confirm, opts.Invocation()); err != nil {
			return err
		}
	}
	if !report.Complete() {
		return &exitError{code: exitFailed}
	}
	return nil
}

// printVerify prints the differences, one line each (a repository's
// missing pull requests grouped into one), then the totals, then once
// what to do. Every name comes from the archive or the target: all of it
// goes through fprintSafe and termsafe.Writer. self is bbimport as the
// admin ran it, with the --home or --url given, for the commands the text
// suggests.
func printVerify(out io.Writer, r model.VerifyReport, remainder, self string) {
	out = termsafe.NewWriter(out)
	var moved, changed bool
	ds := r.Differences
	for i := 0; i < len(ds); i++ {
		d := ds[i]
		if d.Kind == model.VerifyPullRequest && d.Status == model.VerifyMissing {
			// The run of this repository's missing pull requests: sorted
			// by number, they follow one another.
			j := i
			for j+1 < len(ds) && ds[j+1].Kind == d.Kind && ds[j+1].Status == d.Status && ds[j+1].Repository == d.Repository && ds[j+1].Target == d.Target {
				j++
			}
			fprintSafe(out, "%s\n", missingPullRequestsLine(ds[i:j+1]))
			i = j
			continue
		}
		moved = moved || d.Kind == model.VerifyRef && d.Status == model.VerifyDiffers
		changed = changed || d.Kind == model.VerifyPullRequest && d.Status == model.VerifyDiffers
		fprintSafe(out, "%s\n", differenceLine(d))
	}
	if len(r.Differences) > 0 {
		fmt.Fprintln(out)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	jobs := "job"
	if len(r.Jobs) > 1 {
		jobs = "jobs"
	}
	fprintSafe(tw, "Archive\t%s (%s %s)\n", r.Archive, jobs, jobList(r.Jobs))
	fprintSafe(tw, "Target\t%s\n", r.Target)
	for _, c := range []struct {
		name string
		n    model.VerifyCount
	}{{"Fork hierarchies", r.Totals.Hierarchies}, {"Repositories", r.Totals.Repositories}, {"Branches and tags", r.Totals.Refs}, {"Pull requests", r.Totals.PullRequests}} {
		fmt.Fprintf(tw, "%s\t%d expected: %d present, %d missing, %d differing\n", c.name, c.n.Expected, c.n.Present, c.n.Missing, c.n.Differing)
	}
	tw.Flush()
	if r.Complete() {
		fmt.Fprintln(out, "Everything in the archive is on the target.")
		return
	}
	fmt.Fprintln(out)
	if r.Lacking() {
		if remainder != "" {
			fmt.Fprintln(out, "What is missing is in the remainder archive written below: import it.")
		} else {
			fprintSafe(out, "To import what is missing, write a remainder archive with %s verify %s --remainder FILE and import it; "+
				"it imports each incomplete fork hierarchy again whole, beside the partial copy.\n", self, jobList(r.Jobs))
		}
	}
	if moved || changed {
		fmt.Fprintln(out, "What differs changed on the target after the import (a push, a merge, an edit), or was imported wrong: "+
			"check who changed it and compare it with the archive's; a remainder does not import it again.")
	}
}

// where names a difference's repository, and where it is on the target
// when that is elsewhere.
func where(d model.VerifyDifference) string {
	if d.Target != "" && d.Target != d.Repository {
		return d.Repository + " (" + d.Target + " on the target)"
	}
	return d.Repository
}

// differenceLine is one difference, said as what was found; what to do is
// said once, after the totals.
func differenceLine(d model.VerifyDifference) string {
	w := where(d)
	switch d.Kind {
	case model.VerifyHierarchy:
		switch {
		case d.Status == model.VerifyMissing:
			return fmt.Sprintf("%s: its fork hierarchy is missing on the target.", w)
		case d.Field == model.VerifyIncomplete:
			return fmt.Sprintf("%s: its fork hierarchy is incomplete on the target.", w)
		}
		return fmt.Sprintf("%s: its fork hierarchy is all on the target, but changed since the import (below).", w)
	case model.VerifyRepository:
		return fmt.Sprintf("%s: missing on the target.", w)
	case model.VerifyRef:
		if d.Status == model.VerifyMissing {
			return fmt.Sprintf("%s: %s is missing (the archive has it at %s).", w, d.Item, short(d.Expected))
		}
		return fmt.Sprintf("%s: %s is at %s, the archive has %s: it moved since the import.", w, d.Item, short(d.Found), short(d.Expected))
	}
	if d.Status == model.VerifyMissing {
		return fmt.Sprintf("%s: pull request %s is missing.", w, d.Item)
	}
	switch d.Field {
	case "state":
		return fmt.Sprintf("%s: pull request %s is %s, %s in the archive.", w, d.Item, d.Found, d.Expected)
	case "title":
		return fmt.Sprintf("%s: pull request %s is titled \"%s\", \"%s\" in the archive.", w, d.Item, d.Found, d.Expected)
	case "comments":
		return fmt.Sprintf("%s: pull request %s has %s comments, %s in the archive.", w, d.Item, d.Found, d.Expected)
	}
	return fmt.Sprintf("%s: pull request %s has %s %s, %s in the archive.", w, d.Item, d.Field, d.Found, d.Expected)
}

// maxRanges bounds the ranges a line of missing pull requests spells out.
const maxRanges = 12

// missingPullRequestsLine is one repository's missing pull requests, in
// ranges: "PULS/api: PRs 12–61 (50) missing.", "PR #7 is missing." alone.
func missingPullRequestsLine(ds []model.VerifyDifference) string {
	if len(ds) == 1 {
		return differenceLine(ds[0])
	}
	ids := make([]int64, len(ds))
	for i, d := range ds {
		ids[i], _ = strconv.ParseInt(strings.TrimPrefix(d.Item, "#"), 10, 64)
	}
	var ranges []string
	for i := 0; i < len(ids); {
		j := i
		for j+1 < len(ids) && ids[j+1] == ids[j]+1 {
			j++
		}
		if len(ranges) == maxRanges {
			ranges = append(ranges, "…")
			break
		}
		if j == i {
			ranges = append(ranges, strconv.FormatInt(ids[i], 10))
		} else {
			ranges = append(ranges, fmt.Sprintf("%d–%d", ids[i], ids[j]))
		}
		i = j + 1
	}
	return fmt.Sprintf("%s: PRs %s (%d) missing.", where(ds[0]), strings.Join(ranges, ", "), len(ds))
}

// short is an object name as git abbreviates it.
func short(obj string) string {
	if len(obj) > 12 {
		return obj[:12]
	}
	return obj
}

func jobList(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, " ")
}

// printVerifyCSV prints the differences as CSV with a header row. A
// field's newline stays inside its quotes, as CSV writes it; the rest of
// what a terminal acts on is escaped, over the whole text at once so that
// no character is cut between two writes.
func printVerifyCSV(out io.Writer, r model.VerifyReport) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"kind", "status", "hierarchyId", "repository", "target", "item", "field", "expected", "found"})
	for _, d := range r.Differences {
		_ = w.Write([]string{d.Kind, d.Status, d.HierarchyID, d.Repository, d.Target, d.Item, d.Field, d.Expected, d.Found})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("write the CSV output: %w", err)
	}
	if _, err := termsafe.NewWriter(out).Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write the CSV output: %w", err)
	}
	return nil
}

// writeRemainder says what importing the remainder will do, by
// Bitbucket's rules, then writes it.
func writeRemainder(ctx context.Context, v *verify.Verifier, r model.VerifyReport, path, importDir string, out io.Writer, confirmReplace func() (bool, error), self string) error {
	out = termsafe.NewWriter(out)
	replaced := map[string]bool{}
	if confirmReplace != nil {
		var err error
		if replaced, err = replacePartial(ctx, v, r, out, confirmReplace); err != nil {
			return err
		}
	}
	plan, err := v.PlanRemainder(ctx, r)
	if err != nil {
		return err
	}
	plan.Incomplete = slices.DeleteFunc(plan.Incomplete, func(id string) bool { return replaced[id] })
	fmt.Fprintln(out)
	if len(plan.Hierarchies) == 0 {
		why := "nothing of the archive is missing"
		if !r.Complete() {
			why += "; what changed since the import (listed) is checked on the target, not imported again"
		}
		fprintSafe(out, "No remainder written to %s: %s.\n", path, why)
		return nil
	}
	origins := map[string]string{}
	for _, h := range r.Hierarchies {
		origins[h.ID] = h.Origin
	}
	say := func(format string, a ...any) { fprintSafe(out, format+"\n", a...) }
	say("The remainder archive %s holds %s (%s, %s) of %s.", filepath.Base(path),
		model.Plural(len(plan.Hierarchies), "fork hierarchy", "fork hierarchies"),
		model.Plural(plan.Repositories, "repository", "repositories"),
		model.Plural(plan.PullRequests, "pull request", "pull requests"), r.Archive)
	for _, p := range plan.Projects {
		switch {
		case p.Personal:
			say("Importing it reuses the personal project %s.", p.Key)
		case p.ImportAs != p.Key:
			say("Importing it creates project %s as %s: %s exists on the target.", p.Key, p.ImportAs, p.Key)
		default:
			say("Importing it creates project %s.", p.Key)
		}
	}
	if len(plan.Incomplete) > 0 {
		names := make([]string, len(plan.Incomplete))
		for i, id := range plan.Incomplete {
			names[i] = origins[id]
		}
		say("Incomplete on the target, so imported again whole beside the partial copy (an import never reuses what a canceled one left): %s.",
			strings.Join(names, ", "))
	}
	if err := v.WriteRemainder(ctx, plan, path); err != nil {
		return err
	}
	importIt := "import it with " + self + " import " + filepath.Base(path)
	if rel, err := filepath.Rel(importDir, path); importDir == "" || err != nil || rel != filepath.Base(path) {
		importIt = "move it into the import directory and import it"
	}
	fprintSafe(out, "Wrote %s: %s, then check the jobs together with %s verify %s NEW_JOB.\n", path, importIt, self, jobList(r.Jobs))
	return nil
}

// replacePartial lists the partial copies --replace-partial deletes, asks,
// and deletes them; it returns the hierarchies whose copies are gone.
func replacePartial(ctx context.Context, v *verify.Verifier, r model.VerifyReport, out io.Writer, confirm func() (bool, error)) (map[string]bool, error) {
	rp, err := v.PlanReplace(ctx, r)
	if err != nil {
		return nil, err
	}
	out = termsafe.NewWriter(out)
	fmt.Fprintln(out)
	if len(rp.Kept) > 0 {
		fprintSafe(out, "Kept, since they changed on the target after the import (the remainder imports them again beside them): %s.\n",
			strings.Join(rp.Kept, ", "))
	}
	if len(rp.Repositories) == 0 {
		fmt.Fprintln(out, "No partial copy to delete: nothing is incomplete that the import left as it was.")
		return map[string]bool{}, nil
	}
	fmt.Fprintf(out, "Deleting the partial copies of %s, which nobody changed since the import, lets the remainder import them under their original keys:\n",
		model.Plural(len(rp.Hierarchies), "fork hierarchy", "fork hierarchies"))
	for _, repo := range rp.Repositories {
		fprintSafe(out, "  repository %s\n", repo)
	}
	for _, key := range rp.Projects {
		fprintSafe(out, "  project %s, which that leaves empty\n", key)
	}
	ok, err := confirm()
	if err != nil || !ok {
		if err == nil {
			err = errors.New("nothing deleted and no remainder written: answer y to delete the partial copies, or leave out --replace-partial")
		}
		return nil, err
	}
	if err := v.Replace(ctx, rp, func(what string) { fprintSafe(out, "Deleted %s.\n", what) }); err != nil {
		return nil, err
	}
	replaced := map[string]bool{}
	for _, id := range rp.Hierarchies {
		replaced[id] = true
	}
	return replaced, nil
}

// confirmDelete asks on a terminal; elsewhere --yes is the answer.
func confirmDelete(s *streams, out io.Writer, yes bool) (bool, error) {
	if yes {
		return true, nil
	}
	if !s.inTTY {
		return false, errors.New("--replace-partial deletes repositories: confirm with --yes when not on a terminal")
	}
	fmt.Fprint(out, "Delete them? [y/N] ")
	line, err := bufio.NewReader(s.in).ReadString('\n')
	if err != nil && line == "" {
		return false, nil
	}
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "y" || answer == "yes", nil
}

// remainderPath is where --remainder FILE goes: a relative FILE into the
// import directory, where `bbimport import FILE` finds it (an import reads
// archives only from there).
func remainderPath(importDir, file string) string {
	if filepath.IsAbs(file) || importDir == "" {
		return file
	}
	return filepath.Join(importDir, file)
}
