package gitcmd

import "fmt"

// stderrKept is how much of what git says on stderr an error keeps, at its
// start and at its end: git on a damaged repository can print a line per
// object, and a buffer without limit grew with them (Gitaly caps it too).
// The first lines say what git was doing, the last why it stopped.
const stderrKept = 4 << 10

// stderrBuffer keeps the first and the last stderrKept bytes written to
// it, and counts those it lets go between them.
type stderrBuffer struct {
	head    []byte
	tail    []byte // a ring once full: the oldest byte is at next
	next    int
	dropped int64
}

func (b *stderrBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if room := stderrKept - len(b.head); room > 0 {
		k := min(room, len(p))
		b.head = append(b.head, p[:k]...)
		p = p[k:]
	}
	for len(p) > 0 {
		if len(b.tail) < stderrKept {
			k := min(stderrKept-len(b.tail), len(p))
			b.tail = append(b.tail, p[:k]...)
			p = p[k:]
			continue
		}
		k := min(stderrKept-b.next, len(p))
		copy(b.tail[b.next:], p[:k])
		b.next = (b.next + k) % stderrKept
		b.dropped += int64(k)
		p = p[k:]
	}
	return n, nil
}

// String is what was kept, with how much was left out between the start
// and the end.
func (b *stderrBuffer) String() string {
	tail := append(append([]byte{}, b.tail[b.next:]...), b.tail[:b.next]...)
	if b.dropped == 0 {
		return string(b.head) + string(tail)
	}
	return fmt.Sprintf("%s\n[… %d bytes of git's output left out …]\n%s", b.head, b.dropped, tail)
}
