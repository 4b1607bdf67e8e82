package verify

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"bbimport/archive"
	"bbimport/model"
)

// expectedRepo is what the archive holds of one repository: what the
// target must show. Only the repositories being compared are held, so
// memory grows with the largest repository, not with the archive.
type expectedRepo struct {
	index     int // in archive order
	hierarchy string
	project   string // the key in the archive
	slug      string
	fork      bool
	refs      map[string]string // refs/heads/… and refs/tags/… → object name
	prs       map[int64]*expectedPR
}

func (r *expectedRepo) name() string { return r.project + "/" + r.slug }

// has says whether r has a ref under prefix.
func (r *expectedRepo) has(prefix string) bool {
	for name := range r.refs {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

// expectedPR is a pull request's digest: what verify compares of it.
type expectedPR struct {
	state    string
	title    string
	comments int
}

// hierarchyOrder is the archive's fork hierarchies in order, each with
// its origin and its repositories' indexes.
type hierarchyOrder struct {
	id     string
	origin string
	repos  []int
}

// maxRefLine bounds one line of a ref file: a ref name is a path, far
// shorter than this.
const maxRefLine = 64 << 10

// readArchive reads f from the start, handing each repository to emit as
// soon as its last pull request is read, and returns the hierarchies in
// archive order. Git objects are skipped by seeking, as inspect does.
func readArchive(ctx context.Context, read func(archive.Handler) error, emit func(*expectedRepo) error) ([]hierarchyOrder, error) {
	projects := map[string]string{} // archive project id → key
	var (
		hierarchies []hierarchyOrder
		byID        = map[string]int{}
		cur         *expectedRepo
		curPR       *expectedPR
		count       int
	)
	flush := func() error {
		if cur == nil {
			return nil
		}
		r := cur
		cur, curPR = nil, nil
		return emit(r)
	}
	err := read(func(m *archive.Member) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if m.Malformed != nil {
			return nil // an item the import could not read either: it shows as missing
		}
		switch m.Kind {
		case archive.KindProject:
			projects[m.Project.ID] = m.Project.Key
		case archive.KindRepository:
			if err := flush(); err != nil {
				return err
			}
			r := m.Repository
			cur = &expectedRepo{index: count, hierarchy: r.HierarchyID, project: projects[r.ProjectID], slug: r.Slug,
				fork: r.IsFork(), refs: map[string]string{}, prs: map[int64]*expectedPR{}}
			count++
			i, ok := byID[r.HierarchyID]
			if !ok {
				i = len(hierarchies)
				byID[r.HierarchyID] = i
				hierarchies = append(hierarchies, hierarchyOrder{id: r.HierarchyID})
			}
			h := &hierarchies[i]
			h.repos = append(h.repos, cur.index)
			if !cur.fork {
				h.origin = cur.name()
			}
		case archive.KindGitMetadata:
			if cur != nil && m.IDs.Repository != "" {
				return m.Files(cur.readRef)
			}
		case archive.KindPullRequestMetadata:
			if cur != nil {
				curPR = &expectedPR{state: m.PullRequest.State, title: m.PullRequest.Title}
				cur.prs[m.PullRequest.ID] = curPR
			}
		case archive.KindPullRequestActivities:
			if curPR != nil && cur.prs[m.IDs.PullRequest] == curPR {
				seen := map[string]bool{}
				return m.Activities(func(a *model.Activity) error {
					if a.Kind == model.KindCommentAdded && a.Comment != nil {
						countComments(a.Comment, seen)
					}
					curPR.comments = len(seen)
					return nil
				})
			}
		case archive.KindHierarchyEnd:
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	return hierarchies, err
}

// countComments adds c and its replies, at any depth, to seen by id.
func countComments(c *model.Comment, seen map[string]bool) {
	seen[c.ID] = true
	for i := range c.Comments {
		countComments(&c.Comments[i], seen)
	}
}

// readRef takes the branches and tags of a repository's git metadata:
// loose refs win over packed ones, as in git.
func (r *expectedRepo) readRef(f archive.File) error {
	switch {
	case f.Name == "packed-refs":
		sc := bufio.NewScanner(f.Body)
		sc.Buffer(nil, maxRefLine)
		loose := map[string]bool{}
		for name := range r.refs {
			loose[name] = true
		}
		for sc.Scan() {
			obj, name, _ := strings.Cut(sc.Text(), " ")
			if compared(name) && !loose[name] {
				r.refs[name] = obj
			}
		}
		if err := sc.Err(); err != nil {
			return fmt.Errorf("read packed-refs of %s: %w", r.name(), err)
		}
	case compared(f.Name):
		data, err := io.ReadAll(io.LimitReader(f.Body, maxRefLine))
		if err != nil {
			return fmt.Errorf("read %s of %s: %w", f.Name, r.name(), err)
		}
		r.refs[f.Name] = strings.TrimSpace(string(data))
	}
	return nil
}

// compared says whether a ref is one verify compares: branches and tags.
func compared(name string) bool {
	return strings.HasPrefix(name, "refs/heads/") || strings.HasPrefix(name, "refs/tags/")
}
