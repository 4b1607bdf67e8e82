package wire

// The Bitbucket Data Center release whose REST API this package follows.
// A server that answers as Bitbucket does reports it from
// /application-properties, as Bitbucket reports its own release, so that
// clients that switch on the version take the paths of this one. BuildDate
// is in Bitbucket's form, epoch milliseconds as a string; it stands for the
// release (2025-07-01 UTC) rather than being Atlassian's exact build time.
const (
	BitbucketVersion     = "9.4.18"
	BitbucketBuildNumber = "9004018"
	BitbucketBuildDate   = "1751328000000"
)
