package gen

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"strconv"

	"bbimport/archive"
	"bbimport/model"
)

var commentTexts = []string{
	"Looks good to me.",
	"Could we add a test for this?",
	"Nit: this name could say what it holds.",
	"Why not reuse the existing helper here?",
	"This breaks when the list is empty & nobody notices: `<nil>`.",
	"Done, thanks for catching it.",
	"I'd rather keep this behaviour behind a flag for now.",
	"+1",
}

// writePullRequest queues one pull request's metadata, activities and
// ancestor cache. Its social side (reviewers, comments, activities) is
// drawn here, from the repository's own random stream, in id order.
func (g *generator) writePullRequest(repo *repoPlan, p pullGit, r *rand.Rand) {
	pr, activities := g.pullRequest(p, r)
	ids := archive.IDs{Repository: repo.ID, PullRequest: p.id}
	g.addJSON(archive.KindPullRequestMetadata, ids, pr, true)
	if repo.ordinal == 0 && p.id == g.opts.CorruptPullRequest {
		// Cut off mid-record: valid gzip, invalid JSON.
		name := archive.MemberName(archive.KindPullRequestActivities, ids)
		g.pipe.add(name, func() ([]byte, error) {
			return compressMember(name, []byte(`[{"kind":"COMMENT:ADDED","comment":{"id":`))
		})
	} else {
		g.addJSON(archive.KindPullRequestActivities, ids, activities, true)
	}
	cache := model.AncestorCache{FromTip: p.tip(), ToTip: p.target, MergeBase: p.mergeBase()}
	g.addTar(archive.KindPullRequestCaches, ids,
		[]File{{Name: "cached-ancestor.txt", Mode: 0o644, Data: []byte(cache.String())}})
	g.stats.PullRequests++
	g.stats.PullRequestsByState[p.state]++
	if p.stacked {
		g.stats.Stacked++
	}
	if p.draft {
		g.stats.Drafts++
	}
	g.stats.Activities += len(activities)
}

// pullRequest draws a pull request's participants and activities. Comment
// records come first, then the rest, each in time order, as Bitbucket
// writes them.
func (g *generator) pullRequest(p pullGit, r *rand.Rand) (model.PullRequest, []model.Activity) {
	ms, act := stamps(r)
	nReviewers := 1 + r.IntN(3)
	if p.rich {
		nReviewers = 3
	}
	reviewers := g.people.pick(r, nReviewers, p.author)
	statuses := []string{model.StatusApproved, model.StatusNeedsWork, model.StatusUnapproved}
	participants := []model.Participant{{Role: model.RoleAuthor, Status: model.StatusUnapproved, UserID: p.author.String()}}
	reviewStatus := map[person]string{}
	for i, rv := range reviewers {
		status := statuses[r.IntN(3)]
		if p.rich {
			status = statuses[i]
		}
		reviewStatus[rv] = status
		part := model.Participant{Role: model.RoleReviewer, Status: status, UserID: rv.String()}
		if status != model.StatusUnapproved {
			part.LastReviewedCommit = p.tip()
		}
		participants = append(participants, part)
	}
	commenters := append([]person{p.author}, reviewers...)
	if p.rich || r.IntN(2) == 0 {
		if extra := g.people.pick(r, 1, commenters...); len(extra) == 1 {
			commenters = append(commenters, extra[0])
			participants = append(participants, model.Participant{Role: model.RoleParticipant, Status: model.StatusUnapproved, UserID: extra[0].String()})
		}
	}

	var comments, others []model.Activity
	opened := act(model.KindActivity, p.opened, p.author)
	opened.Action = model.ActionOpened
	others = append(others, opened)

	added := act(model.KindReviewersUpdated, p.opened+60, p.author)
	added.AddedIDs = userStrings(reviewers)
	others = append(others, added)
	if p.rich {
		// A reviewer added by mistake, then removed.
		if extra := g.people.pick(r, 1, commenters...); len(extra) == 1 {
			add := act(model.KindReviewersUpdated, p.opened+120, p.author)
			add.AddedIDs = userStrings(extra)
			remove := act(model.KindReviewersUpdated, p.opened+180, p.author)
			remove.RemovedIDs = userStrings(extra)
			others = append(others, add, remove)
			g.users[extra[0].String()] = true
		}
	}
	if p.rich || r.IntN(5) == 0 {
		updated := act(model.KindActivity, p.opened+300, p.author)
		updated.Action = model.ActionUpdated
		others = append(others, updated)
	}
	rescoped := ms(p.opened)
	for j := 1; j < len(p.commits); j++ {
		sec := p.opened - 1200 + int64(j)*1800 + 60
		a := act(model.KindRescoped, sec, p.author)
		a.FromHash, a.PreviousFromHash = p.commits[j], p.commits[j-1]
		a.ToHash, a.PreviousToHash = p.target, p.target
		a.Commits = []model.RescopeCommit{{Action: "ADDED", CommitID: p.commits[j]}}
		a.TotalAdded = 1
		others = append(others, a)
		rescoped = a.CreatedTimestamp
	}

	nComments := r.IntN(3)
	if p.rich {
		nComments = 3
	}
	for c := range nComments {
		comments = append(comments, g.commentThread(p, r, c, commenters)...)
	}

	for i, rv := range reviewers {
		sec := p.opened + 40000 + int64(i)*600
		switch reviewStatus[rv] {
		case model.StatusApproved:
			others = append(others, action(act(model.KindActivity, sec, rv), model.ActionApproved))
		case model.StatusNeedsWork:
			others = append(others, action(act(model.KindActivity, sec, rv), model.ActionReviewed))
		case model.StatusUnapproved:
			if p.rich || r.IntN(2) == 0 {
				others = append(others, action(act(model.KindActivity, sec, rv), model.ActionApproved),
					action(act(model.KindActivity, sec+300, rv), model.ActionUnapproved))
			}
		}
	}
	var closed int64
	switch p.state {
	case model.PRDeclined:
		declined := action(act(model.KindActivity, p.closed, reviewers[0]), model.ActionDeclined)
		others, closed = append(others, declined), declined.CreatedTimestamp
	case model.PRMerged:
		merged := act(model.KindMerged, p.closed, p.author)
		merged.Hash, merged.AutoMerge = p.merge, r.IntN(4) == 0
		others, closed = append(others, merged), merged.CreatedTimestamp
	}

	byTime := func(a, b model.Activity) int { return cmp.Compare(a.CreatedTimestamp, b.CreatedTimestamp) }
	slices.SortStableFunc(comments, byTime)
	slices.SortStableFunc(others, byTime)
	activities := slices.Concat(comments, others)
	updated := int64(0)
	for _, a := range activities {
		updated = max(updated, a.CreatedTimestamp)
		g.users[a.UserID] = true
	}
	for _, part := range participants {
		g.users[part.UserID] = true
	}

	description := "Changes `" + p.file + "`."
	if p.rich {
		description += "\n\nHandles `a < b && b > c` without HTML escaping."
	}
	pr := model.PullRequest{AllParticipants: participants, CreatedTimestamp: opened.CreatedTimestamp,
		Description: description, Draft: p.draft, ID: p.id, RescopedTimestamp: rescoped, State: p.state,
		Title: p.title, UpdatedTimestamp: updated, Version: len(others) - 1, ClosedTimestamp: closed,
		FromRef: ref(p.branch, p.tip()), ToRef: ref("refs/heads/"+defaultBranch, p.target)}
	return pr, activities
}

func action(a model.Activity, name string) model.Activity {
	a.Action = name
	return a
}

func ref(id, commit string) model.Ref {
	return model.Ref{DisplayID: id[len("refs/heads/"):], ID: id, LatestCommit: commit}
}

// comment is a new open comment with the next comment id of the archive.
func (g *generator) comment(r *rand.Rand, created int64, who person) model.Comment {
	g.commentID++
	return model.Comment{AuthorID: who.String(), Comments: []model.Comment{}, CreatedTimestamp: created,
		ID: strconv.Itoa(g.commentID), Severity: model.SeverityNormal, State: model.CommentOpen,
		Text: commentTexts[r.IntN(len(commentTexts))], UpdatedTimestamp: created}
}

func (g *generator) countComments(c model.Comment) {
	g.stats.Comments++
	if c.IsTask() {
		g.stats.Tasks++
	}
	g.users[c.AuthorID] = true
	if c.ResolverID != "" {
		g.users[c.ResolverID] = true
	}
	for _, reply := range c.Comments {
		g.countComments(reply)
	}
}

// lastChange is the time of the last update or resolution of c or of a
// reply at any depth.
func lastChange(c model.Comment) int64 {
	last := max(c.UpdatedTimestamp, c.ResolvedTimestamp)
	for _, reply := range c.Comments {
		last = max(last, lastChange(reply))
	}
	return last
}

// commentThread draws the pull request's c-th top-level comment with its
// replies, and the activities that record them.
func (g *generator) commentThread(p pullGit, r *rand.Rand, c int, commenters []person) []model.Activity {
	ms, act := stamps(r)
	var comments []model.Activity
	sec := p.opened + int64(c+1)*3600
	who := commenters[r.IntN(len(commenters))]
	place, task, replies := r.IntN(10), r.IntN(5) == 0, r.IntN(2)
	inline, fileLevel := place < 2, place == 2
	if p.rich {
		// An inline comment, a task on the whole file, then a comment
		// with a reply to a reply.
		inline, fileLevel, task, replies = c == 0, c == 1, c == 1, 0
		if c == 2 {
			replies = 2
		}
	}
	top := g.comment(r, ms(sec), who)
	top.Thread = &model.Thread{}
	switch {
	case inline:
		top.Thread.Anchor = &model.Anchor{DiffType: "EFFECTIVE", FileType: "TO", FromHash: p.base,
			Line: 1 + r.IntN(p.lines), LineType: "ADDED", Path: p.file, ToHash: p.tip()}
	case fileLevel:
		// A comment on the whole file: line 0, no fileType or lineType.
		top.Thread.Anchor = &model.Anchor{DiffType: "EFFECTIVE", FromHash: p.base, Path: p.file, ToHash: p.tip()}
	}
	// thread.resolved is the thread's own state, apart from a task's:
	// the rich pull request resolves a task on an open thread and a
	// plain comment's thread.
	if task {
		top.Severity = model.SeverityBlocker
		if p.rich || r.IntN(2) == 0 {
			resolver := commenters[r.IntN(len(commenters))]
			top.State, top.ResolverID, top.ResolvedTimestamp = model.CommentResolved, resolver.String(), ms(sec+1800)
			top.Thread.Resolved = !p.rich
		}
	}
	if p.rich && c == 2 {
		top.Thread.Resolved = true
	}
	if (p.rich && c == 0) || r.IntN(7) == 0 {
		top.UpdatedTimestamp = ms(sec + 120)
		edited := act(model.KindCommentOther, sec+120, who)
		edited.CommentAction, edited.CommentID = "EDITED", top.ID
		comments = append(comments, edited)
	}
	// Replies nest: the second reply answers the first.
	parent := &top
	for i := range replies {
		rsec := sec + int64(i+1)*600
		rwho := commenters[r.IntN(len(commenters))]
		parent.Comments = append(parent.Comments, g.comment(r, ms(rsec), rwho))
		reply := &parent.Comments[len(parent.Comments)-1]
		replied := act(model.KindCommentOther, rsec, rwho)
		replied.CommentAction, replied.CommentID = "REPLIED", reply.ID
		comments = append(comments, replied)
		parent = reply
	}
	// Real threads carry times too: created with the comment,
	// updated with the last change anywhere in it.
	top.Thread.CreatedTimestamp, top.Thread.UpdatedTimestamp = top.CreatedTimestamp, lastChange(top)
	addedComment := act(model.KindCommentAdded, sec, who)
	addedComment.CreatedTimestamp = top.CreatedTimestamp
	addedComment.Comment = &top
	g.countComments(top)
	return append(comments, addedComment)
}

// stamps gives ms, which turns seconds into epoch milliseconds, and act,
// which makes an activity at such a time. The jitter keeps times from all
// ending in 000 without changing their order.
func stamps(r *rand.Rand) (ms func(sec int64) int64, act func(kind string, sec int64, who person) model.Activity) {
	ms = func(sec int64) int64 { return sec*1000 + int64(r.IntN(1000)) }
	act = func(kind string, sec int64, who person) model.Activity {
		return model.Activity{Kind: kind, CreatedTimestamp: ms(sec), UserID: who.String()}
	}
	return ms, act
}
