// Package restschema checks JSON against a JSON Schema of Bitbucket's REST
// shapes (testdata/rest/bitbucket-8.19.schema.json): a field outside the
// schema fails, so that what bbimport says is Bitbucket's JSON is exactly
// that, no field more. The REST client's conformance test checks every
// answer of serve with it, the commands' tests every --json they print.
package restschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// Doc is a JSON Schema of the few keywords Bitbucket's shapes need:
// $ref, type, enum, properties, required, additionalProperties (false)
// and items. A keyword outside these fails the load, so that the schema
// never says more than the check does.
type Doc struct {
	Definitions map[string]*schemaNode `json:"definitions"`
}

type schemaNode struct {
	Ref                  string                 `json:"$ref"`
	Type                 any                    `json:"type"`
	Enum                 []any                  `json:"enum"`
	Properties           map[string]*schemaNode `json:"properties"`
	Required             []string               `json:"required"`
	AdditionalProperties *bool                  `json:"additionalProperties"`
	Items                *schemaNode            `json:"items"`
}

// Load reads the schema at path, failing t on a keyword the check does
// not know or an object that allows fields beyond its own.
func Load(t testing.TB, path string) *Doc {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Definitions map[string]json.RawMessage `json:"definitions"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	s := &Doc{Definitions: map[string]*schemaNode{}}
	for name, def := range raw.Definitions {
		d := json.NewDecoder(bytes.NewReader(def))
		d.DisallowUnknownFields()
		var n schemaNode
		if err := d.Decode(&n); err != nil {
			t.Fatalf("schema %s: %v", name, err)
		}
		if n.Type == "object" && (n.AdditionalProperties == nil || *n.AdditionalProperties) {
			t.Fatalf("schema %s: an object must forbid additional properties", name)
		}
		s.Definitions[name] = &n
	}
	return s
}

// Validate checks the JSON text body against the definition def and
// returns what does not match it, one sentence each; nil when it all does.
func (s *Doc) Validate(def string, body []byte) []string {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return []string{fmt.Sprintf("not JSON: %v", err)}
	}
	return s.check(&schemaNode{Ref: "#/definitions/" + def}, v, "$")
}

func (s *Doc) check(n *schemaNode, v any, at string) []string {
	if n.Ref != "" {
		def, ok := s.Definitions[strings.TrimPrefix(n.Ref, "#/definitions/")]
		if !ok {
			return []string{at + ": the schema has no " + n.Ref}
		}
		return s.check(def, v, at)
	}
	if n.Enum != nil && !slices.Contains(n.Enum, v) {
		return []string{fmt.Sprintf("%s: %v is none of %v", at, v, n.Enum)}
	}
	if n.Type != nil && !hasType(n.Type, v) {
		return []string{fmt.Sprintf("%s: %v is not of type %v", at, v, n.Type)}
	}
	var problems []string
	switch v := v.(type) {
	case map[string]any:
		for _, r := range n.Required {
			if _, ok := v[r]; !ok {
				problems = append(problems, fmt.Sprintf("%s: required field %s is missing", at, r))
			}
		}
		for k, fv := range v {
			p, ok := n.Properties[k]
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: field %q is not Bitbucket's", at, k))
				continue
			}
			problems = append(problems, s.check(p, fv, at+"."+k)...)
		}
	case []any:
		if n.Items != nil {
			for i, item := range v {
				problems = append(problems, s.check(n.Items, item, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	}
	return problems
}

func hasType(t any, v any) bool {
	var names []string
	switch t := t.(type) {
	case string:
		names = []string{t}
	case []any:
		for _, n := range t {
			names = append(names, fmt.Sprint(n))
		}
	}
	for _, name := range names {
		switch name {
		case "object":
			if _, ok := v.(map[string]any); ok {
				return true
			}
		case "array":
			if _, ok := v.([]any); ok {
				return true
			}
		case "string":
			if _, ok := v.(string); ok {
				return true
			}
		case "boolean":
			if _, ok := v.(bool); ok {
				return true
			}
		case "null":
			if v == nil {
				return true
			}
		case "integer":
			if n, ok := v.(json.Number); ok {
				if _, err := n.Int64(); err == nil {
					return true
				}
			}
		}
	}
	return false
}
