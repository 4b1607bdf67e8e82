package gen

import (
	"bytes"
	"encoding/json"

	"bbimport/archive"
)

// shape returns v as the member of kind is written where the model type
// alone does not say it: the fields that archiveVersion 1 leaves out, and
// the unknown fields of Options.UnknownFields. It returns v itself when
// nothing changes, and otherwise v as generic JSON, whose objects encode
// with sorted keys as Bitbucket writes them.
func (g *generator) shape(kind archive.Kind, v any) (any, error) {
	v1Project := kind == archive.KindProject && g.archiveVersion() == 1
	extra := g.opts.UnknownFields && extraFields[kind] != nil
	if !v1Project && !extra {
		return v, nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	if p, ok := doc.(map[string]any); v1Project && ok && p["description"] == "" {
		delete(p, "description")
	}
	if extra {
		extraFields[kind](doc)
	}
	return doc, nil
}

// extraFields add the fields of Options.UnknownFields to a member's
// generic JSON, by member kind. Their values are fixed: the same seed
// still gives the same bytes.
var extraFields = map[archive.Kind]func(doc any){
	archive.KindPullRequestMetadata: func(doc any) {
		if pr, ok := doc.(map[string]any); ok {
			pr["locked"] = false
		}
	},
	archive.KindPullRequestActivities: func(doc any) {
		records, _ := doc.([]any)
		for i, rec := range records {
			a, ok := rec.(map[string]any)
			if !ok {
				continue
			}
			a["id"] = i + 1
			if c, ok := a["comment"].(map[string]any); ok {
				addCommentVersion(c)
			}
		}
	},
}

// addCommentVersion adds "version" to a comment and its replies at every depth.
func addCommentVersion(c map[string]any) {
	c["version"] = 0
	replies, _ := c["comments"].([]any)
	for _, r := range replies {
		if rc, ok := r.(map[string]any); ok {
			addCommentVersion(rc)
		}
	}
}
