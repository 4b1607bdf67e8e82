package importer

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"bbimport/archive"
	"bbimport/importer/gitcmd"
	"bbimport/model"
)

func (im *importRun) pullRequest(m *archive.Member) error {
	im.endPullRequest()
	repo := im.repos[m.IDs.Repository]
	if repo == nil {
		im.error("", "Pull request %d belongs to repository id %s, which the archive did not define; it was not imported", m.IDs.PullRequest, m.IDs.Repository)
		return nil
	}
	im.lastRepo = repo
	subject := repo.subject + "#" + strconv.FormatInt(m.IDs.PullRequest, 10)
	if repo.failed {
		repo.skippedPRs++
		return nil
	}
	if im.finishHierarchy {
		if repo.skippedPRs == 0 {
			repo.skipReason = "the import was canceled during the git data of its fork hierarchy"
		}
		repo.skippedPRs++
		return nil
	}
	if err := im.checkpoint(checkpointPullRequest, "pull request "+subject); err != nil {
		return err
	}
	pr := m.PullRequest
	if pr == nil {
		im.error(subject, "Pull request %s was not imported: its metadata cannot be read: %v", subject, m.Malformed)
		return nil
	}
	im.run.setProgress(fmt.Sprintf("Importing %s: pull request %d", repo.subject, pr.ID), 0)
	// The database would refuse the second (UNIQUE), and that must not
	// end the import.
	taken, err := im.st.pullRequestExists(repo.id, pr.ID)
	if err != nil {
		return fmt.Errorf("look up pull request %s: %w", subject, err)
	}
	if taken {
		im.error(subject, "Pull request %s was not imported: an earlier pull request of %s in the archive has the same id %d", subject, repo.subject, pr.ID)
		return nil
	}
	imported := &importedPullRequest{scoped: pr.ID, subject: subject, repo: repo}
	if bad, err := im.checkCommits(imported, pullRequestCommits(pr)); err != nil || bad != nil {
		if bad != nil {
			im.error(subject, "Pull request %s was not imported: %v", subject, bad)
		}
		return err
	}
	id, err := im.st.insertPullRequest(repo.id, pr)
	if err != nil {
		return fmt.Errorf("store pull request %s: %w", subject, err)
	}
	imported.id = id
	for _, p := range pr.AllParticipants {
		uid, err := im.user(p.UserID, subject)
		if err != nil {
			return err
		}
		if !uid.Valid {
			continue
		}
		if err := im.st.insertParticipant(id, uid, p); err != nil {
			return err
		}
	}
	im.pr = imported
	im.counts.PullRequests++
	if im.hierarchy != nil {
		im.hierarchy.prs++
	}
	return nil
}

// endPullRequest reports, once per pull request, the commits of its
// history that are not in its repository.
func (im *importRun) endPullRequest() {
	pr := im.pr
	im.pr = nil
	if pr == nil || pr.missing == 0 {
		return
	}
	im.warn(pr.subject, "Pull request %s: %s that its history names %s not in %s (the first: %s, %s); "+
		"a force push followed by a garbage collection removes them, so the history was imported as it is",
		pr.subject, model.Plural(pr.missing, "commit", "commits"), isAre(pr.missing), pr.repo.subject, pr.firstMissing.where, quoteID(pr.firstMissing.id))
}

// dropPullRequest takes a pull request that failed part-way out of the
// database, and out of the counts.
func (im *importRun) dropPullRequest(why error) error {
	pr := im.pr
	im.pr = nil
	im.error(pr.subject, "Pull request %s was not imported: %v", pr.subject, why)
	if err := im.st.deletePullRequest(pr.id); err != nil {
		return fmt.Errorf("remove pull request %s: %w", pr.subject, err)
	}
	im.counts.PullRequests--
	if im.hierarchy != nil {
		im.hierarchy.prs--
	}
	return nil
}

// activities stores a pull request's records as the reader decodes them.
// A record that names a bad commit fails the whole pull request. When the
// records stop for any other reason (a document that cannot be read, an
// item error; a limit, a stop: fatal), what was stored of them goes, so
// that the pull request keeps all of its history or none.
func (im *importRun) activities(m *archive.Member) error {
	pr := im.pr
	unknown := map[string]bool{}
	var named []namedCommit
	err := m.Activities(func(a *model.Activity) error {
		if im.run.ctx.Err() != nil {
			return errStoppedNow
		}
		named = activityCommits(a, named[:0])
		if bad, err := im.checkCommits(pr, named); err != nil || bad != nil {
			if bad != nil {
				return bad
			}
			return err
		}
		uid, err := im.user(a.UserID, pr.subject)
		if err != nil {
			return err
		}
		var commentID sql.NullInt64
		if a.Kind == model.KindCommentAdded && a.Comment != nil {
			id, err := im.comment(a.Comment, sql.NullInt64{})
			if err != nil {
				return err
			}
			commentID = sql.NullInt64{Int64: id, Valid: true}
		}
		if !knownKind(a.Kind) && !unknown[a.Kind] {
			unknown[a.Kind] = true
			im.warn(pr.subject, "Activity kind %q is not known to bbimport; it was kept with its common fields only", a.Kind)
		}
		detail := *a
		detail.Comment = nil // stored in comments, linked by comment_id
		data, err := json.Marshal(detail)
		if err != nil {
			return err
		}
		return im.st.insertActivity(pr.id, *a, uid, commentID, string(data))
	})
	if err == nil {
		return nil
	}
	var bad *badCommit
	if errors.As(err, &bad) {
		return im.dropPullRequest(bad)
	}
	derr := im.st.deletePullRequestHistory(pr.id)
	if m.Malformed == nil {
		return err
	}
	if derr != nil {
		return fmt.Errorf("remove the activities of pull request %s: %w", pr.subject, derr)
	}
	im.malformed(m)
	return nil
}

// pullRequestCaches stores a pull request's cached ancestor, unless it
// names what is not a commit of the repository: it is only a cache, which
// Bitbucket computes again, so that is a warning.
func (im *importRun) pullRequestCaches(a *model.AncestorCache) error {
	pr := im.pr
	for _, id := range []string{a.FromTip, a.ToTip, a.MergeBase} {
		ok := isObjectName(id)
		if ok {
			var err error
			if ok, err = im.commitCheckFor(pr.repo).isCommit(id); err != nil {
				return err
			}
		}
		if !ok {
			im.warn(pr.subject, "The cached ancestor of pull request %s names %s, which is not a commit of %s; the cache was ignored", pr.subject, quoteID(id), pr.repo.subject)
			return nil
		}
	}
	return im.st.setPullRequestCaches(pr.id, a)
}

func knownKind(kind string) bool {
	for _, k := range model.KnownActivityKinds {
		if k == kind {
			return true
		}
	}
	return false
}

// comment stores a comment and, under it, its replies.
func (im *importRun) comment(c *model.Comment, parent sql.NullInt64) (int64, error) {
	author, err := im.user(c.AuthorID, im.pr.subject)
	if err != nil {
		return 0, err
	}
	var resolver sql.NullInt64
	if c.ResolverID != "" {
		if resolver, err = im.user(c.ResolverID, im.pr.subject); err != nil {
			return 0, err
		}
	}
	var anchor sql.NullString
	threadResolved := false
	if c.Thread != nil {
		threadResolved = c.Thread.Resolved
		if c.Thread.Anchor != nil {
			data, err := json.Marshal(c.Thread.Anchor)
			if err != nil {
				return 0, err
			}
			anchor = sql.NullString{String: string(data), Valid: true}
		}
	}
	id, err := im.st.insertComment(c, commentRow{pullRequest: im.pr.id, parent: parent, author: author,
		resolver: resolver, threadResolved: threadResolved, anchor: anchor})
	if err != nil {
		return 0, fmt.Errorf("store comment %s of %s: %w", c.ID, im.pr.subject, err)
	}
	for i := range c.Comments {
		if _, err := im.comment(&c.Comments[i], sql.NullInt64{Int64: id, Valid: true}); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// closePullRequests reports, once per repository, the pull requests that
// were left out because the repository was not imported.
func (im *importRun) closePullRequests() {
	im.endPullRequest()
	if im.commits != nil {
		im.commits.close()
		im.commits = nil
	}
	r := im.lastRepo
	im.lastRepo = nil
	if r == nil || r.skippedPRs == 0 {
		return
	}
	sev := model.SeverityError
	if !r.failed {
		sev = model.SeverityWarn // left out on purpose, by a cancel
	}
	left := model.Plural(r.skippedPRs, "pull request", "pull requests") + " of " + r.subject
	im.message(sev, r.subject, "%s %s not imported: %s", left, wasWere(r.skippedPRs), r.skipReason)
	if h := im.hierarchy; h != nil {
		h.leftOut = append(h.leftOut, left)
	}
	r.skippedPRs = 0
}

// A namedCommit is a commit id that a pull request names, and where.
type namedCommit struct {
	where string // e.g. "its fromRef.latestCommit"
	id    string
	// current is set for the commits of the pull request's present state:
	// its refs' tips and its merge. The others are history (rescopes,
	// reviews, comment anchors), which a force push and a garbage
	// collection on the source may have taken out of the repository.
	current bool
}

func pullRequestCommits(pr *model.PullRequest) []namedCommit {
	named := []namedCommit{
		{where: "its fromRef.latestCommit", id: pr.FromRef.LatestCommit, current: true},
		{where: "its toRef.latestCommit", id: pr.ToRef.LatestCommit, current: true},
	}
	for i, p := range pr.AllParticipants {
		if p.LastReviewedCommit != "" {
			named = append(named, namedCommit{where: fmt.Sprintf("its allParticipants[%d].lastReviewedCommit", i), id: p.LastReviewedCommit})
		}
	}
	return named
}

// activityCommits appends to named the commits an activity record names:
// a MERGED record's hash, the hashes and commits of a RESCOPED one, the
// anchors of a comment and its replies; the same fields are checked on
// records of other kinds when they are there. A MERGED record may have no
// hash: Bitbucket marks a stacked pull request MERGED, without a commit of
// its own, when the one built on it is merged.
func activityCommits(a *model.Activity, named []namedCommit) []namedCommit {
	kind := quoteID(a.Kind)
	add := func(field, id string, current bool) {
		if id != "" {
			named = append(named, namedCommit{where: "the " + field + " of its " + kind + " activity", id: id, current: current})
		}
	}
	add("hash", a.Hash, a.Kind == model.KindMerged)
	add("fromHash", a.FromHash, false)
	add("toHash", a.ToHash, false)
	add("previousFromHash", a.PreviousFromHash, false)
	add("previousToHash", a.PreviousToHash, false)
	for i, c := range a.Commits {
		add(fmt.Sprintf("commits[%d].commitId", i), c.CommitID, false)
	}
	if a.Comment != nil {
		named = commentCommits(a.Comment, named)
	}
	return named
}

func commentCommits(c *model.Comment, named []namedCommit) []namedCommit {
	if c.Thread != nil && c.Thread.Anchor != nil {
		for _, f := range []struct{ field, id string }{{"fromHash", c.Thread.Anchor.FromHash}, {"toHash", c.Thread.Anchor.ToHash}} {
			if f.id != "" {
				named = append(named, namedCommit{where: "the anchor " + f.field + " of comment " + quoteID(c.ID), id: f.id})
			}
		}
	}
	for i := range c.Comments {
		named = commentCommits(&c.Comments[i], named)
	}
	return named
}

// A badCommit is a commit id that fails its pull request: not an object
// name at all, or a commit of the present state that is not in the
// repository.
type badCommit struct {
	namedCommit
	repo string // the repository's subject
}

func (b *badCommit) Error() string {
	if !isObjectName(b.id) {
		return fmt.Sprintf("%s is %s, which is not a full commit id (40 hexadecimal digits)", b.where, quoteID(b.id))
	}
	return fmt.Sprintf("%s is %s, which is not a commit of %s", b.where, quoteID(b.id), b.repo)
}

// checkCommits checks the commits named by a pull request: each must be a
// full object name, and those of its present state commits of its
// repository (or of its origin, through alternates). It counts, in pr,
// the history that is missing.
func (im *importRun) checkCommits(pr *importedPullRequest, named []namedCommit) (*badCommit, error) {
	for _, c := range named {
		if !isObjectName(c.id) {
			return &badCommit{c, pr.repo.subject}, nil
		}
		ok, err := im.commitCheckFor(pr.repo).isCommit(c.id)
		switch {
		case err != nil:
			return nil, err
		case ok:
		case c.current:
			return &badCommit{c, pr.repo.subject}, nil
		default:
			if pr.missing == 0 {
				pr.firstMissing = c
			}
			pr.missing++
		}
	}
	return nil, nil
}

// commitCheckFor returns the commit check of repo, started on first use;
// the one of the previous repository ends.
func (im *importRun) commitCheckFor(repo *importedRepo) *commitCheck {
	if im.commits != nil && im.commits.repo == repo {
		return im.commits
	}
	if im.commits != nil {
		im.commits.close()
	}
	im.commits = &commitCheck{repo: repo, gitDir: im.in.repositoryDir(repo.id), ctx: im.run.ctx}
	return im.commits
}

// A commitCheck asks one git cat-file --batch-check, for all the pull
// requests of a repository, whether ids are commits of the repository:
// one process per repository, not one per commit.
type commitCheck struct {
	repo   *importedRepo
	gitDir string
	ctx    context.Context

	cmd   *gitcmd.Cmd // nil until the first question
	in    io.WriteCloser
	out   *bufio.Reader
	known map[string]bool // answers so far, up to maxKnownCommits: anchors name the same few commits again and again
}

const maxKnownCommits = 4096

func (c *commitCheck) start() error {
	// Replace refs from the archive must not make a missing commit look
	// present.
	cmd := gitcmd.Command(c.ctx, c.gitDir, "--no-replace-objects", "cat-file", "--batch-check=%(objecttype)")
	in, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("check the commits of %s: %w", c.repo.subject, err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("check the commits of %s: %w", c.repo.subject, err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("check the commits of %s: %w", c.repo.subject, err)
	}
	c.cmd, c.in, c.out, c.known = cmd, in, bufio.NewReader(out), map[string]bool{}
	return nil
}

// isCommit reports whether id, a full object name, is a commit of the
// repository.
func (c *commitCheck) isCommit(id string) (bool, error) {
	if ok, seen := c.known[id]; seen {
		return ok, nil
	}
	if c.cmd == nil {
		if err := c.start(); err != nil {
			return false, err
		}
	}
	if _, err := io.WriteString(c.in, id+"\n"); err != nil {
		return false, c.failed(err)
	}
	line, err := c.out.ReadString('\n')
	if err != nil {
		return false, c.failed(err)
	}
	var ok bool
	switch answer := strings.TrimSuffix(line, "\n"); answer {
	case "commit":
		ok = true
	case id + " missing", "tree", "blob", "tag":
	default:
		return false, fmt.Errorf("check commit %s of %s: git cat-file answered %q", id, c.repo.subject, answer)
	}
	if len(c.known) == maxKnownCommits {
		clear(c.known)
	}
	c.known[id] = ok
	return ok, nil
}

// failed says why git stopped answering, with what it said if it exited.
func (c *commitCheck) failed(err error) error {
	c.in.Close()
	if werr := c.cmd.Wait(); werr != nil {
		err = werr
	}
	c.cmd = nil
	return fmt.Errorf("check the commits of %s: %w", c.repo.subject, err)
}

// close ends git: it exits at the end of its input.
func (c *commitCheck) close() {
	if c.cmd == nil {
		return
	}
	c.in.Close()
	_ = c.cmd.Wait()
	c.cmd = nil
}

// quoteID quotes an id from the archive for a message, cut short: it may
// be anything, of any length.
func quoteID(s string) string {
	const max = 64
	if len(s) > max {
		return strconv.Quote(s[:max]) + "…"
	}
	return strconv.Quote(s)
}

// isAre and wasWere agree with a count.
func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func wasWere(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}
