package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"bbimport/carry"
	"bbimport/ui"
)

func newCarryCmd(g *globalFlags) *cobra.Command {
	var (
		identity string
		resume   bool
		mode     string
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "carry FILE [user@]host[:port]:DIR",
		Short: "Copy an export archive to a server's import directory over SSH, checked at both ends",
		Long: `carry copies FILE into the directory DIR, usually a target's import
directory (<shared home>/data/migration/import), and proves it arrived whole:

  - over SFTP, logging in with the keys of your SSH agent ($SSH_AUTH_SOCK),
    ~/.ssh/id_ed25519, id_ecdsa, id_rsa, or -i KEY; the server's host key
    must be in ~/.ssh/known_hosts: an unknown host is refused with the
    fingerprint to check, a changed key refused loudly (connect once with
    ssh to add a new server). ~/.ssh/config is not read: give the user and
    port in the address;
  - after checking that DIR exists, that the SSH user may write it, and that
    it has room (when the server reports free space);
  - under a hidden temporary name (.NAME.part), renamed only when whole and
    checked, so no import sees half a file; mode 0644 (--mode) so that
    Bitbucket's own user can read it;
  - MD5 and SHA-256 computed while it streams; then each end's MD5 computed
    on that machine (md5sum over SSH; an SFTP-only account gets its file read
    back, which costs a second read) and compared with the streamed one. A
    mismatch removes the copy and exits 1, naming both sums.

A transfer that breaks (network, Ctrl-C) leaves its temporary file: run the
same command with --resume to continue at its last byte. Without --resume a
left-over temporary file is written anew. A file of the same name in DIR is
never replaced.

FILE may itself be on a server ([user@]host[:port]:PATH): carry downloads
it, and with both ends on servers the bytes pass through this machine
without being stored. Both ends on this machine: a hard link when DIR is on
the same file system, else a copy.

Progress goes to stderr (a bar on a terminal); the result to stdout.

Exit status: 0 carried and checked; 1 an MD5 differed; 2 error; 3 canceled
(resumable).`,
		Example: `  bbimport carry Bitbucket_export_12.tar admin@target:/var/atlassian/application-data/bitbucket/shared/data/migration/import
  bbimport carry Bitbucket_export_12.tar admin@target:2222:/srv/bb/shared/data/migration/import -i ~/.ssh/migrate --resume
  bbimport carry admin@source:/srv/bb/shared/data/migration/export/Bitbucket_export_12.tar .
  bbimport carry export.tar admin@target:/srv/import --json | jq .target`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			perm, err := strconv.ParseUint(mode, 8, 32)
			if err != nil || perm > 0o777 {
				return fmt.Errorf("--mode %q is not an octal file mode such as 0644", mode)
			}
			from, err := carry.ParseLocation(args[0])
			if err != nil {
				return fmt.Errorf("FILE: %w", err)
			}
			to, err := carry.ParseLocation(args[1])
			if err != nil {
				return fmt.Errorf("DIR: %w", err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			keys := carry.Keys{IdentityFile: identity}
			sides, closeAll, err := openSides(ctx, keys, from, to)
			if err != nil {
				return err
			}
			defer closeAll()
			show := newCarryProgress(g.io.errOut, g.io.errTTY)
			res, err := carry.Carry(ctx, sides[0], from.Path, sides[1], to.Path, carry.Options{
				Resume: resume, Mode: fs.FileMode(perm), Progress: show.report,
			})
			show.clear()
			var mismatch *carry.MismatchError
			var broken *carry.BrokenError
			switch {
			case errors.As(err, &mismatch):
				return &exitError{code: exitFailed, err: err}
			case errors.As(err, &broken) && ctx.Err() != nil:
				return &exitError{code: exitCanceled, err: fmt.Errorf("canceled after %s of %s; the part carried stays in %s: run again with --resume to continue",
					humanize.IBytes(uint64(broken.Done)), humanize.IBytes(uint64(broken.Total)), broken.Temporary)}
			case err != nil:
				return err
			}
			if asJSON {
				return printJSON(g.io.out, res)
			}
			printCarried(g.io.out, res, sides[0], sides[1])
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&identity, "identity", "i", "", "private key to log in with, tried before the agent's (as ssh -i); a key with a passphrase must be in the agent")
	f.BoolVar(&resume, "resume", false, "continue a broken transfer from the end of its temporary file instead of starting over")
	f.StringVar(&mode, "mode", "0644", "mode of the carried file (octal); Bitbucket's user must be able to read it")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON (path, bytes, sent, resumed, method, sums, source, target, notes)")
	return cmd
}

// openSides connects to the servers of from and to, once for both when
// they name the same one.
func openSides(ctx context.Context, keys carry.Keys, from, to carry.Location) ([2]carry.Side, func(), error) {
	sides := [2]carry.Side{carry.Local, carry.Local}
	var opened []*carry.Remote
	closeAll := func() {
		for _, r := range opened {
			r.Close()
		}
	}
	for i, l := range []carry.Location{from, to} {
		if l.Address == nil {
			continue
		}
		if i == 1 && from.Address != nil && *from.Address == *l.Address {
			sides[1] = sides[0]
			continue
		}
		r, err := carry.Dial(ctx, *l.Address, keys)
		if err != nil {
			closeAll()
			return sides, nil, err
		}
		opened = append(opened, r)
		sides[i] = r
	}
	return sides, closeAll, nil
}

func printCarried(out io.Writer, res carry.Result, from, to carry.Side) {
	fmt.Fprintf(out, "carried to %s: %s (%s)\n", to, res.Path, res.Method)
	switch {
	case res.Method == "link":
		fmt.Fprintf(out, "  %s, a hard link: nothing copied\n", humanize.IBytes(uint64(res.Bytes)))
	case res.Resumed > 0:
		fmt.Fprintf(out, "  %s: resumed at %s, sent %s\n", humanize.IBytes(uint64(res.Bytes)),
			humanize.IBytes(uint64(res.Resumed)), humanize.IBytes(uint64(res.Sent)))
	default:
		fmt.Fprintf(out, "  %s sent in %.1f s\n", humanize.IBytes(uint64(res.Sent)), res.Seconds)
	}
	fmt.Fprintf(out, "md5     %s\nsha256  %s\n", res.Sums.MD5, res.Sums.SHA256)
	fmt.Fprintf(out, "source  %s  %s\n", res.Source.MD5, endHow(res.Source, from))
	fmt.Fprintf(out, "target  %s  %s\n", res.Target.MD5, endHow(res.Target, to))
	for _, n := range res.Notes {
		fmt.Fprintln(out, "note:", n)
	}
}

// endHow says in words where and how an end's MD5 was computed.
func endHow(e carry.EndMD5, side carry.Side) string {
	switch e.How {
	case "md5sum":
		return "md5sum on " + side.String()
	case "read-back":
		return "read back from " + side.String() + " over SFTP"
	case "carried":
		return "read on " + side.String() + " while carrying"
	case "hard link":
		return "the same file (hard link)"
	}
	return "read on " + side.String()
}

// carryProgress shows carry's progress on stderr: a line when a step
// starts, and on a terminal a bar for the steps that count bytes here.
type carryProgress struct {
	mu   sync.Mutex
	out  io.Writer
	tty  bool
	seen map[carry.Step]bool
	bar  *ui.ProgressBar
	step carry.Step // the bar's
	base int64      // where the bar's step started: a resumed carry's offset
}

func newCarryProgress(out io.Writer, tty bool) *carryProgress {
	return &carryProgress{out: out, tty: tty, seen: map[carry.Step]bool{}}
}

var stepLines = map[carry.Step]string{
	carry.StepPrefix:    "hashing the part carried before",
	carry.StepCarry:     "carrying",
	carry.StepSourceMD5: "MD5 at the source",
	carry.StepTargetMD5: "MD5 at the target",
}

func (c *carryProgress) report(p carry.Progress) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// The two ends' MD5s run at once: each step gets its line once, and
	// the bar follows the step that started last.
	if !c.seen[p.Step] {
		c.seen[p.Step] = true
		c.clear()
		c.step, c.base = p.Step, p.Done
		if p.Done > 0 {
			fmt.Fprintf(c.out, "%s (%s of %s left)\n", stepLines[p.Step], humanize.IBytes(uint64(p.Total-p.Done)), humanize.IBytes(uint64(p.Total)))
		} else {
			fmt.Fprintf(c.out, "%s (%s)\n", stepLines[p.Step], humanize.IBytes(uint64(p.Total)))
		}
		if c.tty {
			c.bar = ui.NewProgressBar(c.out, nil)
		}
	}
	// The bar counts from the step's start, so that its rate is this
	// run's: of a resumed carry it shows what is left.
	if c.bar != nil && p.Step == c.step && p.Done > c.base {
		c.bar.Show(p.Done-c.base, p.Total-c.base)
	}
}

func (c *carryProgress) clear() {
	if c.bar != nil {
		c.bar.Clear()
		c.bar = nil
	}
}
