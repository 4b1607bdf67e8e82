package archive

import (
	"bytes"
	"testing"
)

// TestManyTinyJSONObjectsAreRefused: each "{}" of an activities document
// becomes a model.Activity of some 270 bytes, so MaxJSONBytes alone lets a
// 16 MiB document (a few tens of KB gzip'd) take 5 GB of heap. Default limits
// must refuse a document of millions of empty objects before decoding it.
func TestManyTinyJSONObjectsAreRefused(t *testing.T) {
	n := 1<<19 + 1
	doc := append([]byte("["), bytes.Repeat([]byte("{},"), n-1)...)
	doc = append(doc, "{}]"...)
	activities := MemberName(KindPullRequestActivities, idRepo)
	checkViolation(t, violation{archive: replaced(t, KindPullRequestActivities, entry{name: activities, body: gz(t, doc)}),
		err: ErrLimit, member: activities, rule: "MaxJSONObjects"})
}
