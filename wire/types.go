package wire

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
