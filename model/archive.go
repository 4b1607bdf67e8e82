// Package model holds the plain types shared by the importer, the REST
// client and server, and the console: what a migration archive holds, import
// jobs, their messages and pages. It does no I/O.
//
// JSON tags follow Bitbucket's field names exactly. Fields are declared in
// alphabetical order of their JSON names because Bitbucket writes archive
// metadata with sorted keys and encoding/json writes fields in declaration
// order: the generator then writes byte-for-byte the same style.
package model

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The archiveVersions bbimport reads: 1 is written by Data Center 5.13 to
// 7.x, 2 by 8.x and 9.x. Anything else is refused before a byte is written.
const (
	OldestArchiveVersion = 1
	NewestArchiveVersion = 2
)

// ArchiveVersionSupported reports whether bbimport reads archiveVersion v.
func ArchiveVersionSupported(v int) bool {
	return v >= OldestArchiveVersion && v <= NewestArchiveVersion
}

// InstanceDetails is instance-details.json: who wrote the archive.
// ArchiveVersion is the version the reader read the archive as.
type InstanceDetails struct {
	ArchiveVersion int    `json:"archiveVersion"`
	BuildVersion   string `json:"buildVersion"`
	DataCenter     bool   `json:"dataCenter"`
	InstanceName   string `json:"instanceName"`
	NodeID         string `json:"nodeId"`
	Product        string `json:"product"`
	Version        string `json:"version"`
}

// Project is project.json. Archives of version 1 leave out an empty
// description; it reads as "".
type Project struct {
	Description string      `json:"description"`
	ID          string      `json:"id"`
	Key         string      `json:"key"`
	Name        string      `json:"name"`
	Public      bool        `json:"public"`
	Type        ProjectType `json:"type"`
}

// ProjectType is Bitbucket's ProjectType. Archives write its ordinal
// (0, 1); its name (NORMAL, PERSONAL), as the REST API writes it, is read
// too, so that either form reads the same in any archiveVersion.
type ProjectType int

// Project types, by their ordinal in Bitbucket's enum.
const (
	ProjectTypeNormal   ProjectType = 0
	ProjectTypePersonal ProjectType = 1
)

var projectTypeNames = map[ProjectType]string{ProjectTypeNormal: "NORMAL", ProjectTypePersonal: "PERSONAL"}

// String is the type's name as the REST API writes it.
func (t ProjectType) String() string {
	if n, ok := projectTypeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("ProjectType(%d)", int(t))
}

// UnmarshalJSON reads a number or one of the names NORMAL and PERSONAL.
func (t *ProjectType) UnmarshalJSON(b []byte) error {
	var n int
	if err := json.Unmarshal(b, &n); err == nil {
		*t = ProjectType(n)
		return nil
	}
	var name string
	if err := json.Unmarshal(b, &name); err != nil {
		return fmt.Errorf("project type %s is neither a number nor a name", b)
	}
	for typ, known := range projectTypeNames {
		if strings.EqualFold(name, known) {
			*t = typ
			return nil
		}
	}
	return fmt.Errorf("project type %q is neither NORMAL nor PERSONAL", name)
}

// Personal reports whether the project is a user's personal project (~USER).
func (p Project) Personal() bool { return strings.HasPrefix(p.Key, "~") }

// Repository is repository_<rid>.json. A fork names its origin in OriginID
// (field name inferred: no public sample had a fork).
type Repository struct {
	Forkable    bool   `json:"forkable"`
	HierarchyID string `json:"hierarchyId"`
	ID          string `json:"id"`
	Name        string `json:"name"`
	OriginID    string `json:"originId,omitempty"`
	ProjectID   string `json:"projectId"`
	Public      bool   `json:"public"`
	ScmID       string `json:"scmId"`
	Slug        string `json:"slug"`
}

// IsFork reports whether the repository is a fork of another in its hierarchy.
func (r Repository) IsFork() bool { return r.OriginID != "" }

// Permission is one entry of permissions.json (project or repository).
type Permission struct {
	Groups     []string `json:"groups"`
	Permission string   `json:"permission"`
	UserIDs    []string `json:"userIds"`
}

// GitLFSSettings is git-lfs-settings.json. LFS content is never in the archive.
type GitLFSSettings struct {
	Enabled bool `json:"enabled"`
}

// User types in user id strings.
const (
	UserTypeNormal  = "NORMAL"
	UserTypeService = "SERVICE"
)

// UserID is a user as the archive names one: "slug|displayName||TYPE".
// The third field has been empty in every sample (no e-mail is exported);
// it is kept so that a user id string survives a round trip unchanged.
type UserID struct {
	Slug        string
	DisplayName string
	Extra       string
	Type        string
}

// ParseUserID reads "slug|displayName||TYPE". A display name that itself
// holds "|" is tolerated: the slug is the first field and the type the last.
func ParseUserID(s string) (UserID, error) {
	parts := strings.Split(s, "|")
	if len(parts) < 4 || parts[0] == "" {
		return UserID{}, fmt.Errorf("user id %q is not slug|displayName||TYPE", s)
	}
	n := len(parts)
	return UserID{
		Slug:        parts[0],
		DisplayName: strings.Join(parts[1:n-2], "|"),
		Extra:       parts[n-2],
		Type:        parts[n-1],
	}, nil
}

// String writes the user id back in the archive's form.
func (u UserID) String() string {
	return u.Slug + "|" + u.DisplayName + "|" + u.Extra + "|" + u.Type
}

// Pull request states.
const (
	PROpen     = "OPEN"
	PRMerged   = "MERGED"
	PRDeclined = "DECLINED"
)

// Ref is a pull request's fromRef or toRef.
type Ref struct {
	DisplayID    string `json:"displayId"`
	ID           string `json:"id"`
	LatestCommit string `json:"latestCommit"`
}

// Participant roles and review statuses.
const (
	RoleAuthor      = "AUTHOR"
	RoleReviewer    = "REVIEWER"
	RoleParticipant = "PARTICIPANT"

	StatusApproved   = "APPROVED"
	StatusNeedsWork  = "NEEDS_WORK"
	StatusUnapproved = "UNAPPROVED"
)

// Participant is one entry of a pull request's allParticipants.
type Participant struct {
	LastReviewedCommit string `json:"lastReviewedCommit,omitempty"`
	Role               string `json:"role"`
	Status             string `json:"status"`
	UserID             string `json:"userId"`
}

// PullRequest is a pull request's metadata.json.
type PullRequest struct {
	AllParticipants   []Participant `json:"allParticipants"`
	ClosedTimestamp   int64         `json:"closedTimestamp,omitempty"`
	CreatedTimestamp  int64         `json:"createdTimestamp"`
	Description       string        `json:"description"`
	Draft             bool          `json:"draft"`
	FromRef           Ref           `json:"fromRef"`
	ID                int64         `json:"id"`
	RescopedTimestamp int64         `json:"rescopedTimestamp"`
	State             string        `json:"state"`
	Title             string        `json:"title"`
	ToRef             Ref           `json:"toRef"`
	UpdatedTimestamp  int64         `json:"updatedTimestamp"`
	Version           int           `json:"version"`
}

// Activity kinds as activities.json names them.
const (
	KindActivity         = "ACTIVITY"
	KindCommentAdded     = "COMMENT:ADDED"
	KindCommentOther     = "COMMENT:OTHER"
	KindReviewersUpdated = "REVIEWERS:UPDATED"
	KindRescoped         = "RESCOPED"
	KindMerged           = "MERGED"
)

// KnownActivityKinds lists every kind the importer understands; any other
// kind is kept with a message and never fails an import.
var KnownActivityKinds = []string{KindActivity, KindCommentAdded, KindCommentOther,
	KindReviewersUpdated, KindRescoped, KindMerged}

// Actions of ACTIVITY records.
const (
	ActionOpened     = "OPENED"
	ActionUpdated    = "UPDATED"
	ActionApproved   = "APPROVED"
	ActionUnapproved = "UNAPPROVED"
	ActionReviewed   = "REVIEWED"
	ActionDeclined   = "DECLINED"
)

// Activity is one record of activities.json. One struct holds the fields of
// every kind; Kind says which are set.
type Activity struct {
	Action           string          `json:"action,omitempty"`
	AddedIDs         []string        `json:"addedIds,omitempty"`
	AutoMerge        bool            `json:"autoMerge,omitempty"`
	Comment          *Comment        `json:"comment,omitempty"`
	CommentAction    string          `json:"commentAction,omitempty"`
	CommentID        string          `json:"commentId,omitempty"`
	Commits          []RescopeCommit `json:"commits,omitempty"`
	CreatedTimestamp int64           `json:"createdTimestamp"`
	FromHash         string          `json:"fromHash,omitempty"`
	Hash             string          `json:"hash,omitempty"`
	Kind             string          `json:"kind"`
	PreviousFromHash string          `json:"previousFromHash,omitempty"`
	PreviousToHash   string          `json:"previousToHash,omitempty"`
	RemovedIDs       []string        `json:"removedIds,omitempty"`
	ToHash           string          `json:"toHash,omitempty"`
	TotalAdded       int             `json:"totalAdded,omitempty"`
	TotalRemoved     int             `json:"totalRemoved,omitempty"`
	UserID           string          `json:"userId"`
}

// RescopeCommit is one commit a RESCOPED activity added or removed.
type RescopeCommit struct {
	Action   string `json:"action"`
	CommitID string `json:"commitId"`
}

// Comment severities and states. A BLOCKER comment is a task.
const (
	SeverityNormal  = "NORMAL"
	SeverityBlocker = "BLOCKER"
	CommentOpen     = "OPEN"
	CommentResolved = "RESOLVED"
)

// Comment is a pull request comment with its replies nested in Comments.
type Comment struct {
	AuthorID          string    `json:"authorId"`
	Comments          []Comment `json:"comments"`
	CreatedTimestamp  int64     `json:"createdTimestamp"`
	ID                string    `json:"id"`
	ResolvedTimestamp int64     `json:"resolvedTimestamp,omitempty"`
	ResolverID        string    `json:"resolverId,omitempty"`
	Severity          string    `json:"severity"`
	State             string    `json:"state"`
	Text              string    `json:"text"`
	Thread            *Thread   `json:"thread,omitempty"`
	UpdatedTimestamp  int64     `json:"updatedTimestamp"`
}

// IsTask reports whether the comment is a task (a BLOCKER comment).
func (c Comment) IsTask() bool { return c.Severity == SeverityBlocker }

// Thread is a comment's thread; Anchor is set on inline comments only.
// Archives of 9.4 carry the times on every thread; older ones may not.
type Thread struct {
	Anchor           *Anchor `json:"anchor,omitempty"`
	CreatedTimestamp int64   `json:"createdTimestamp,omitempty"`
	Resolved         bool    `json:"resolved"`
	UpdatedTimestamp int64   `json:"updatedTimestamp,omitempty"`
}

// Anchor places an inline comment in a diff, or a file-level one on a
// file: line 0 and no fileType or lineType keys, as archives carry it.
type Anchor struct {
	DiffType string `json:"diffType"`
	FileType string `json:"fileType,omitempty"`
	FromHash string `json:"fromHash"`
	Line     int    `json:"line"`
	LineType string `json:"lineType,omitempty"`
	Orphaned bool   `json:"orphaned"`
	Path     string `json:"path"`
	ToHash   string `json:"toHash"`
}

// AncestorCache is cached-ancestor.txt: "<fromTip>,<toTip>,<mergeBase>".
type AncestorCache struct {
	FromTip   string
	ToTip     string
	MergeBase string
}

// ParseAncestorCache reads cached-ancestor.txt.
func ParseAncestorCache(s string) (AncestorCache, error) {
	parts := strings.Split(strings.TrimSpace(s), ",")
	if len(parts) != 3 {
		return AncestorCache{}, fmt.Errorf("cached ancestor %q is not fromTip,toTip,mergeBase", s)
	}
	return AncestorCache{FromTip: parts[0], ToTip: parts[1], MergeBase: parts[2]}, nil
}

// String writes the cache line back.
func (a AncestorCache) String() string { return a.FromTip + "," + a.ToTip + "," + a.MergeBase }
