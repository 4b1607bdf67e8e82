package importer

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"

	"bbimport/importer/archive"
	"bbimport/model"
)

func (im *importRun) pullRequest(m *archive.Member) error {
	im.pr = nil
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
	id, err := im.st.insertPullRequest(repo.id, pr)
	if err != nil {
		return fmt.Errorf("store pull request %s: %w", subject, err)
	}
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
	im.pr = &importedPullRequest{id: id, scoped: pr.ID, subject: subject}
	im.counts.PullRequests++
	if im.hierarchy != nil {
		im.hierarchy.prs++
	}
	return nil
}

func (im *importRun) activities(acts []model.Activity) error {
	unknown := map[string]bool{}
	for _, a := range acts {
		uid, err := im.user(a.UserID, im.pr.subject)
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
			im.warn(im.pr.subject, "Activity kind %q is not known to bbimport; it was kept with its common fields only", a.Kind)
		}
		detail := a
		detail.Comment = nil // stored in comments, linked by comment_id
		data, err := json.Marshal(detail)
		if err != nil {
			return err
		}
		if err := im.st.insertActivity(im.pr.id, a, uid, commentID, string(data)); err != nil {
			return err
		}
	}
	return nil
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
	r := im.lastRepo
	im.lastRepo, im.pr = nil, nil
	if r == nil || r.skippedPRs == 0 {
		return
	}
	sev := model.SeverityError
	if !r.failed {
		sev = model.SeverityWarn // left out on purpose, by a cancel
	}
	im.message(sev, r.subject, "%d pull request(s) of %s were not imported: %s", r.skippedPRs, r.subject, r.skipReason)
	r.skippedPRs = 0
}
