package wire

import "bbimport/model"

// ImportRequest is the body of POST /migration/imports. ArchivePath is a
// pointer so that a missing field can be told from an empty one.
type ImportRequest struct {
	ArchivePath *string `json:"archivePath"`
}

// ApplicationProperties is GET /application-properties: who is on the other end.
type ApplicationProperties struct {
	Version     string `json:"version"`
	BuildNumber string `json:"buildNumber"`
	BuildDate   string `json:"buildDate"`
	DisplayName string `json:"displayName"`
}

// RestJob is a migration job exactly as Bitbucket sends it (Atlassian's
// RestJob schema): model.Job without bbimport's additions, which a script
// written against serve must not come to rely on. Answers under the API's
// prefix send this; bbimport's own namespace sends model.Job whole.
type RestJob struct {
	ID          int64          `json:"id"`
	State       model.State    `json:"state"`
	Type        string         `json:"type"`
	Progress    model.Progress `json:"progress"`
	StartDate   int64          `json:"startDate,omitempty"`
	UpdatedDate int64          `json:"updatedDate,omitempty"`
	EndDate     int64          `json:"endDate,omitempty"`
	NodeID      string         `json:"nodeId,omitempty"`
	Initiator   *model.User    `json:"initiator,omitempty"`
}

// BitbucketJob is j as Bitbucket would send it.
func BitbucketJob(j model.Job) RestJob {
	return RestJob{ID: j.ID, State: j.State, Type: j.Type, Progress: j.Progress, StartDate: j.StartDate,
		UpdatedDate: j.UpdatedDate, EndDate: j.EndDate, NodeID: j.NodeID, Initiator: j.Initiator}
}
