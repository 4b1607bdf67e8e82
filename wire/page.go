package wire

import (
	"context"
	"fmt"
	"iter"
	"net/url"
	"strconv"

	"bbimport/model"
)

// Bitbucket's page sizes: the default, and the cap a server applies to any
// larger limit (a client reads the page's limit back).
const (
	DefaultLimit = 25
	MaxLimit     = 1000
)

// Bounds clamps a requested start and limit as Bitbucket does: a negative
// start is 0, a limit of 0 or less is the default, and none exceeds the cap.
func Bounds(start, limit int) (int, int) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	return max(start, 0), min(limit, MaxLimit)
}

// ParsePaging reads a request's start and limit, clamped by Bounds. A value
// that is not a whole number is a *FieldError naming it.
func ParsePaging(q url.Values) (start, limit int, err error) {
	for _, p := range []struct {
		name string
		to   *int
	}{{"start", &start}, {"limit", &limit}} {
		raw := q.Get(p.name)
		if raw == "" {
			continue
		}
		n, err := strconv.Atoi(raw)
		if err != nil {
			return 0, 0, &FieldError{Field: p.name, Message: fmt.Sprintf("%s must be a whole number, not %q", p.name, raw)}
		}
		*p.to = n
	}
	start, limit = Bounds(start, limit)
	return start, limit, nil
}

// Complete makes a page's paging fields agree with its values, whatever its
// builder filled in: values is never null, size is their number, and
// nextPageStart is present exactly when isLastPage is false.
func Complete[T any](p model.Page[T]) model.Page[T] {
	if p.Values == nil {
		p.Values = []T{}
	}
	p.Size = len(p.Values)
	if p.IsLastPage {
		p.NextPageStart = nil
	} else if p.NextPageStart == nil {
		next := p.Start + p.Size
		p.NextPageStart = &next
	}
	return p
}

// PageOf cuts the page at start of at most limit values out of all of them.
func PageOf[T any](all []T, start, limit int) model.Page[T] {
	p := model.Page[T]{Start: start, Limit: limit, IsLastPage: start+limit >= len(all)}
	if start < len(all) {
		p.Values = all[start:min(start+limit, len(all))]
	}
	return Complete(p)
}

// PageLookahead builds the page at start from up to limit+1 values read
// from there: the extra one is not sent, it only says that another page
// follows. A database query asks for limit+1 rows to know that cheaply.
func PageLookahead[T any](values []T, start, limit int) model.Page[T] {
	p := model.Page[T]{Start: start, Limit: limit, IsLastPage: len(values) <= limit}
	if !p.IsLastPage {
		values = values[:limit]
	}
	p.Values = values
	return Complete(p)
}

// Next says where reading goes on after page p, fetched at start, and
// whether another page is worth fetching. It stops after the last page, and
// also on a page whose nextPageStart is missing or does not advance (a
// known Bitbucket bug that would otherwise loop forever); reading then
// resumes just past the values seen.
func Next[T any](start int, p model.Page[T]) (next int, more bool) {
	if p.IsLastPage || p.NextPageStart == nil || *p.NextPageStart <= start {
		return start + len(p.Values), false
	}
	return *p.NextPageStart, true
}

// Fetch reads the page that begins at start.
type Fetch[T any] func(ctx context.Context, start int) (model.Page[T], error)

// Pages yields the pages from start on, as Next directs. A failed fetch is
// yielded with its error and ends the sequence.
func Pages[T any](ctx context.Context, start int, fetch Fetch[T]) iter.Seq2[model.Page[T], error] {
	return func(yield func(model.Page[T], error) bool) {
		for {
			p, err := fetch(ctx, start)
			if err != nil {
				yield(p, err)
				return
			}
			if !yield(p, nil) {
				return
			}
			var more bool
			if start, more = Next(start, p); !more {
				return
			}
		}
	}
}

// Each hands every value of the pages from start on to visit, and returns
// the start just past the last value seen, where a later call can resume.
// It stops at the first error, fetch's or visit's.
func Each[T any](ctx context.Context, start int, fetch Fetch[T], visit func(T) error) (int, error) {
	for p, err := range Pages(ctx, start, fetch) {
		if err != nil {
			return start, err
		}
		for i, v := range p.Values {
			if err := visit(v); err != nil {
				return start + i + 1, err
			}
		}
		start, _ = Next(start, p)
	}
	return start, nil
}
