package wire

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"bbimport/model"
)

// ParseSeverity reads one severity in any case. Anything else is a
// *FieldError naming the severity field.
func ParseSeverity(raw string) (model.Severity, error) {
	sev := model.Severity(strings.ToUpper(strings.TrimSpace(raw)))
	for _, known := range model.Severities {
		if sev == known {
			return sev, nil
		}
	}
	return "", &FieldError{Field: "severity", Message: fmt.Sprintf("severity %q is not one of INFO, WARN, ERROR", raw)}
}

// ParseSeverityList reads a comma-separated list such as "INFO,WARN", as an
// admin types it on the command line. Empty means all: nil.
func ParseSeverityList(list string) ([]model.Severity, error) {
	if list == "" {
		return nil, nil
	}
	var out []model.Severity
	for _, part := range strings.Split(list, ",") {
		sev, err := ParseSeverity(part)
		if err != nil {
			return nil, err
		}
		out = append(out, sev)
	}
	return out, nil
}

// MessageQueryValues is the query of GET …/messages: one severity parameter
// per severity, as Bitbucket takes them. start is always sent; limit only
// when set, so that the server's default applies.
func MessageQueryValues(q model.MessageQuery) url.Values {
	v := url.Values{}
	for _, s := range q.Severities {
		v.Add("severity", string(s))
	}
	if q.Subject != "" {
		v.Set("subject", q.Subject)
	}
	v.Set("start", strconv.Itoa(q.Start))
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

// ParseMessageQuery reads the query of GET …/messages, paging clamped by
// Bounds. A bad value is a *FieldError naming its parameter.
func ParseMessageQuery(v url.Values) (model.MessageQuery, error) {
	start, limit, err := ParsePaging(v)
	if err != nil {
		return model.MessageQuery{}, err
	}
	q := model.MessageQuery{Start: start, Limit: limit, Subject: v.Get("subject")}
	for _, raw := range v["severity"] {
		sev, err := ParseSeverity(raw)
		if err != nil {
			return model.MessageQuery{}, err
		}
		q.Severities = append(q.Severities, sev)
	}
	return q, nil
}
