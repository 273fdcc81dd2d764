package failover

import (
	"fmt"
	"sort"
	"strings"
)

// nameKey splits a replica name into the parts it is ordered by: the name
// without its trailing digits, then the ordinal those digits make, compared
// as a number, then the whole name. Comparing the keys field by field is a
// total order in which db-2 comes before db-10.
type nameKey struct {
	prefix string
	digits string // trailing digits without leading zeros
	has    bool
	name   string
}

func keyOf(name string) nameKey {
	i := len(name)
	for i > 0 && name[i-1] >= '0' && name[i-1] <= '9' {
		i--
	}
	return nameKey{prefix: name[:i], digits: strings.TrimLeft(name[i:], "0"), has: i < len(name), name: name}
}

// nameLess orders replica names: by prefix, then ordinal, then the name.
func nameLess(a, b string) bool {
	ka, kb := keyOf(a), keyOf(b)
	if ka.prefix != kb.prefix {
		return ka.prefix < kb.prefix
	}
	if ka.has != kb.has {
		return !ka.has
	}
	if len(ka.digits) != len(kb.digits) {
		return len(ka.digits) < len(kb.digits)
	}
	if ka.digits != kb.digits {
		return ka.digits < kb.digits
	}
	return a < b
}

// ensure returns the replica named name, adding it in name order when it is
// unknown (not healthy, not reachable: never a candidate until the
// registry says otherwise).
func (s *State) ensure(name string) *Replica {
	i := sort.Search(len(s.Replicas), func(i int) bool { return !nameLess(s.Replicas[i].Name, name) })
	if i < len(s.Replicas) && s.Replicas[i].Name == name {
		return &s.Replicas[i]
	}
	s.Replicas = append(s.Replicas, Replica{})
	copy(s.Replicas[i+1:], s.Replicas[i:])
	s.Replicas[i] = Replica{Name: name}
	return &s.Replicas[i]
}

// allowed says whether placement allows replicas in cluster.
func (s *State) allowed(cluster string) bool {
	i := sort.SearchStrings(s.Allowed, cluster)
	return i < len(s.Allowed) && s.Allowed[i] == cluster
}

// where names a replica with its cluster for messages: "db-2 (us-1)".
func (s *State) where(name string) string {
	if r := s.Replica(name); r != nil && r.Cluster != "" {
		return fmt.Sprintf("%s (%s)", name, r.Cluster)
	}
	return name
}

// bytesText renders a size in binary units: 512B, 16MiB, 1.5GiB.
func bytesText(n uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	u, div := 0, uint64(1)
	for u+1 < len(units) && n >= div*1024 {
		div *= 1024
		u++
	}
	if n%div == 0 {
		return fmt.Sprintf("%d%s", n/div, units[u])
	}
	return fmt.Sprintf("%.1f%s", float64(n)/float64(div), units[u])
}
