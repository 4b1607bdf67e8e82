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
}

// RestRef is a pull request's fromRef or toRef.
type RestRef struct {
	ID           string          `json:"id"`
	DisplayID    string          `json:"displayId"`
	LatestCommit string          `json:"latestCommit"`
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
}
