package model

import "errors"

// ErrNotFound is returned for a project, repository or pull request that
// does not exist (404).
var ErrNotFound = errors.New("not found")

// The kinds of ErrNotFound, so that a server can name what is missing as
// Bitbucket does (its exceptionName); errors.Is(err, ErrNotFound) holds for
// each. Their text completes a name: "project PRJ " + "does not exist".
var (
	ErrNoSuchProject     error = &notFoundKind{}
	ErrNoSuchRepository  error = &notFoundKind{}
	ErrNoSuchPullRequest error = &notFoundKind{}
)

type notFoundKind struct{ _ byte } // not zero-sized: each kind is its own pointer

func (*notFoundKind) Error() string        { return "does not exist" }
func (*notFoundKind) Is(target error) bool { return target == ErrNotFound }

// The Rest* types are the entities of Bitbucket's read API in its JSON
// shapes. They live here because the importer builds them and the server
// only sends them; how they travel (paths, pages, errors) is package wire's.

// RestProject is a project as Bitbucket's REST API shows one.
type RestProject struct {
	Key         string `json:"key"`
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Public      bool   `json:"public"`
	Type        string `json:"type"` // NORMAL or PERSONAL
	Links       *Links `json:"links,omitempty"`
}

// Links are an entity's links: self is its web page, clone (repositories
// only) its http and ssh clone URLs. The importer leaves them nil: only the
// server knows the base URL a client reached it by.
type Links struct {
	Clone []Link `json:"clone,omitempty"`
	Self  []Link `json:"self"`
}

// Link is one link; Name is "http" or "ssh" on clone links.
type Link struct {
	Href string `json:"href"`
	Name string `json:"name,omitempty"`
}

// RestRepository is a repository as Bitbucket's REST API shows one.
type RestRepository struct {
	Slug          string          `json:"slug"`
	ID            int64           `json:"id"`
	Name          string          `json:"name"`
	HierarchyID   string          `json:"hierarchyId"`
	ScmID         string          `json:"scmId"`
	State         string          `json:"state"` // AVAILABLE, INITIALISING
	StatusMessage string          `json:"statusMessage"`
	Forkable      bool            `json:"forkable"`
	Origin        *RestRepository `json:"origin,omitempty"`
	Project       RestProject     `json:"project"`
	Public        bool            `json:"public"`
	Archived      bool            `json:"archived"`
	Links         *Links          `json:"links,omitempty"`
}

// RestRef is a pull request's fromRef or toRef.
type RestRef struct {
	ID           string          `json:"id"`
	DisplayID    string          `json:"displayId"`
	LatestCommit string          `json:"latestCommit"`
	Type         string          `json:"type"` // BRANCH or TAG
	Repository   *RestRepository `json:"repository,omitempty"`
}

// RestParticipant is an author, reviewer or participant of a pull request.
type RestParticipant struct {
	User               User   `json:"user"`
	Role               string `json:"role"`
	Approved           bool   `json:"approved"`
	Status             string `json:"status"`
	LastReviewedCommit string `json:"lastReviewedCommit,omitempty"`
}

// RestPullRequest is a pull request as Bitbucket's REST API shows one.
type RestPullRequest struct {
	ID           int64             `json:"id"`
	Version      int               `json:"version"`
	Title        string            `json:"title"`
	Description  string            `json:"description,omitempty"`
	State        string            `json:"state"`
	Open         bool              `json:"open"`
	Closed       bool              `json:"closed"`
	Draft        bool              `json:"draft"`
	CreatedDate  int64             `json:"createdDate"`
	UpdatedDate  int64             `json:"updatedDate"`
	ClosedDate   int64             `json:"closedDate,omitempty"`
	FromRef      RestRef           `json:"fromRef"`
	ToRef        RestRef           `json:"toRef"`
	Locked       bool              `json:"locked"`
	Author       RestParticipant   `json:"author"`
	Reviewers    []RestParticipant `json:"reviewers"`
	Participants []RestParticipant `json:"participants"`
	// Properties are the counts Bitbucket adds to a pull request
	// (withProperties, on by default); nil when the server sent none.
	Properties *RestPullRequestProperties `json:"properties,omitempty"`
	Links      *Links                     `json:"links,omitempty"`
}

// RestPullRequestProperties are a pull request's comment and task counts.
// CommentCount counts every comment and reply, tasks (BLOCKER comments)
// included, as the archive holds them: what Bitbucket counts is inferred.
type RestPullRequestProperties struct {
	CommentCount      int `json:"commentCount"`
	OpenTaskCount     int `json:"openTaskCount"`
	ResolvedTaskCount int `json:"resolvedTaskCount"`
}

// Ref types.
const (
	RefBranch = "BRANCH"
	RefTag    = "TAG"
)

// RestBranchOrTag is a branch or tag of GET …/branches and …/tags. For an
// annotated tag LatestCommit is the commit it points to and Hash the tag
// object; LatestChangeset repeats LatestCommit, as Bitbucket does for old
// clients.
type RestBranchOrTag struct {
	ID              string `json:"id"`
	DisplayID       string `json:"displayId"`
	Type            string `json:"type"`
	LatestCommit    string `json:"latestCommit"`
	LatestChangeset string `json:"latestChangeset"`
	Hash            string `json:"hash,omitempty"`
	IsDefault       *bool  `json:"isDefault,omitempty"` // branches only
}

// Ref orders of GET …/branches and …/tags.
const (
	OrderAlphabetical = "ALPHABETICAL"
	OrderModification = "MODIFICATION"
)

// RefQuery filters and orders branches or tags: FilterText is a part of
// the name (any case).
type RefQuery struct {
	FilterText string
	OrderBy    string // OrderAlphabetical (default) or OrderModification
}

// ProjectQuery filters projects: Name is a part of the name (any case).
type ProjectQuery struct {
	Name string
}

// RepositoryQuery filters repositories. ProjectKey, when set, names the
// one project to list (an unknown key is ErrNotFound); Name and
// ProjectName are parts of the repository's and its project's names (any
// case).
type RepositoryQuery struct {
	ProjectKey  string
	Name        string
	ProjectName string
}

// Pull request list orders and directions.
const (
	OrderNewest       = "NEWEST"
	OrderOldest       = "OLDEST"
	DirectionIncoming = "INCOMING"
	DirectionOutgoing = "OUTGOING"
	PRStateAll        = "ALL"
)

// PullRequestQuery filters a repository's pull requests as Bitbucket's
// list does. The zero value of each field means Bitbucket's default.
type PullRequestQuery struct {
	State      string // PROpen (default), PRMerged, PRDeclined or PRStateAll
	At         string // a full ref id: refs/heads/x
	Direction  string // DirectionIncoming (default: At is the toRef) or DirectionOutgoing (the fromRef)
	Order      string // OrderNewest (default) or OrderOldest
	FilterText string // a part of the title or description (any case)
	// Participants must all take part: each names a user, and a role or
	// none for any role.
	Participants []ParticipantFilter
}

// ParticipantFilter is one role.N/username.N pair of a pull request query.
type ParticipantFilter struct {
	Role     string // RoleAuthor, RoleReviewer, RoleParticipant or empty
	Username string
}

// Activity actions as the REST API names them.
const (
	ActionCommented = "COMMENTED"
	ActionRescoped  = "RESCOPED"
	ActionMerged    = "MERGED"
)

// RestActivity is one record of GET …/pull-requests/{id}/activities. Action
// says which of the optional fields are set.
type RestActivity struct {
	ID          int64  `json:"id"`
	CreatedDate int64  `json:"createdDate"`
	User        User   `json:"user"`
	Action      string `json:"action"`

	CommentAction string             `json:"commentAction,omitempty"`
	Comment       *RestComment       `json:"comment,omitempty"`
	CommentAnchor *RestCommentAnchor `json:"commentAnchor,omitempty"`

	AddedReviewers   []User `json:"addedReviewers,omitempty"`
	RemovedReviewers []User `json:"removedReviewers,omitempty"`

	FromHash         string            `json:"fromHash,omitempty"`
	PreviousFromHash string            `json:"previousFromHash,omitempty"`
	ToHash           string            `json:"toHash,omitempty"`
	PreviousToHash   string            `json:"previousToHash,omitempty"`
	Added            *RestRescopeCount `json:"added,omitempty"`
	Removed          *RestRescopeCount `json:"removed,omitempty"`

	Commit    *RestCommitID `json:"commit,omitempty"`
	AutoMerge *bool         `json:"autoMerge,omitempty"`
}

// RestRescopeCount is the commits a RESCOPED activity added or removed.
type RestRescopeCount struct {
	Commits []RestCommitID `json:"commits"`
	Total   int            `json:"total"`
}

// RestCommitID names a commit.
type RestCommitID struct {
	ID string `json:"id"`
}

// RestComment is a pull request comment with its replies nested. A task
// is a comment with severity BLOCKER.
type RestComment struct {
	ID             int64              `json:"id"`
	Version        int                `json:"version"`
	Text           string             `json:"text"`
	Author         User               `json:"author"`
	CreatedDate    int64              `json:"createdDate"`
	UpdatedDate    int64              `json:"updatedDate"`
	Severity       string             `json:"severity"`
	State          string             `json:"state"`
	ThreadResolved bool               `json:"threadResolved"`
	ResolvedDate   int64              `json:"resolvedDate,omitempty"`
	Resolver       *User              `json:"resolver,omitempty"`
	Anchor         *RestCommentAnchor `json:"anchor,omitempty"`
	Comments       []RestComment      `json:"comments"`
}

// RestCommentAnchor places an inline or file comment in a diff. A
// file-level comment has line 0 and no lineType or fileType, as the
// archive has them.
type RestCommentAnchor struct {
	Path     string `json:"path"`
	Line     int    `json:"line"`
	LineType string `json:"lineType,omitempty"`
	FileType string `json:"fileType,omitempty"`
	DiffType string `json:"diffType,omitempty"`
	FromHash string `json:"fromHash,omitempty"`
	ToHash   string `json:"toHash,omitempty"`
	Orphaned bool   `json:"orphaned"`
}
