package carry

import (
	"fmt"
	"net"
	"os"
	"os/user"
	"strconv"
	"strings"
)

// Address is an SSH server to log in to: [user@]host[:port].
type Address struct {
	User string
	Host string
	Port int
}

// String gives the address as it was written, with the port only when it
// is not 22 and an IPv6 host in brackets when a port follows.
func (a Address) String() string {
	host := a.Host
	if a.Port != 22 {
		host = net.JoinHostPort(a.Host, strconv.Itoa(a.Port))
	}
	return a.User + "@" + host
}

// hostPort is the address to dial, and the one known_hosts is asked about.
func (a Address) hostPort() string { return net.JoinHostPort(a.Host, strconv.Itoa(a.Port)) }

// ParseAddress reads [user@]host[:port]. The user defaults to the local
// user's name and the port to 22, as for ssh. An IPv6 host is written in
// brackets: [::1]:2222.
func ParseAddress(s string) (Address, error) {
	a, rest, err := parseHost(s)
	if err != nil {
		return Address{}, err
	}
	if rest != "" {
		port, err := strconv.Atoi(rest)
		if err != nil || port < 1 || port > 65535 {
			return Address{}, fmt.Errorf("%q: the port %q is not a number from 1 to 65535", s, rest)
		}
		a.Port = port
	}
	return a, nil
}

// Location is a path on this machine (Address is nil) or on an SSH server.
type Location struct {
	Address *Address
	Path    string
}

func (l Location) String() string {
	if l.Address == nil {
		return l.Path
	}
	return l.Address.String() + ":" + l.Path
}

// ParseLocation reads a path as scp does: [user@]host[:port]:PATH is on an
// SSH server, anything else (also a path with a colon after a slash, such
// as ./a:b) is on this machine. PATH on a server may be relative to the
// SSH user's home directory.
func ParseLocation(s string) (Location, error) {
	colon := strings.IndexByte(s, ':')
	if strings.HasPrefix(s, "[") {
		// [::1]:PATH holds colons in the host.
		colon = strings.Index(s, "]:")
		if colon >= 0 {
			colon++
		}
	}
	if colon < 0 || strings.Contains(s[:colon], "/") {
		if s == "" {
			return Location{}, fmt.Errorf("an empty path")
		}
		return Location{Path: s}, nil
	}
	a, rest, err := parseHost(s)
	if err != nil {
		return Location{}, err
	}
	// rest is [port:]PATH: a port is digits followed by a colon.
	if port, path, ok := strings.Cut(rest, ":"); ok && port != "" && strings.Trim(port, "0123456789") == "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return Location{}, fmt.Errorf("%q: the port %q is not a number from 1 to 65535", s, port)
		}
		a.Port, rest = n, path
	}
	if rest == "" {
		return Location{}, fmt.Errorf("%q names no path after the host: write [user@]host[:port]:PATH", s)
	}
	return Location{Address: &a, Path: rest}, nil
}

// parseHost reads [user@]host and returns what follows the colon after it.
func parseHost(s string) (Address, string, error) {
	a := Address{Port: 22}
	// A user ends at the first @ before any colon: a path may hold an @.
	if at, colon := strings.IndexByte(s, '@'), strings.IndexByte(s, ':'); at >= 0 && (colon < 0 || at < colon) {
		a.User, s = s[:at], s[at+1:]
	}
	var rest string
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return Address{}, "", fmt.Errorf("%q: an IPv6 address in brackets lacks its ]", s)
		}
		a.Host, rest = s[1:end], s[end+1:]
		if rest != "" && rest[0] != ':' {
			return Address{}, "", fmt.Errorf("%q: expected a colon after ]", s)
		}
		rest = strings.TrimPrefix(rest, ":")
	} else {
		a.Host, rest, _ = strings.Cut(s, ":")
	}
	if a.Host == "" {
		return Address{}, "", fmt.Errorf("%q names no host: write [user@]host[:port]", s)
	}
	if a.User == "" {
		a.User = localUser()
	}
	return a, rest, nil
}

// localUser is the name ssh would log in with when none is given.
func localUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return os.Getenv("USER")
}
