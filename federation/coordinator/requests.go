package coordinator

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
	"github.com/fedstate/fedstate/replication/failover"
)

// request is one operator request read from an annotation.
type request struct {
	kind v1alpha1.RequestKind
	// id names the request; the raw annotation when it has no valid id.
	id string
	// to is the target: a replica, cluster or region (switchover) or a
	// replica (failover); empty for the best replica.
	to string
	// acceptDataLoss allows a failover beyond the RPO budget.
	acceptDataLoss bool
	// err says why the annotation cannot be acted on.
	err error
}

// requestID is what a request id may look like: it goes into status.
var requestID = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$`)

// requestsOf reads the request annotations of a service, switchover first.
func requestsOf(annotations map[string]string) []request {
	var out []request
	if v, ok := annotations[v1alpha1.AnnotationSwitchover]; ok {
		out = append(out, parseRequest(v1alpha1.RequestSwitchover, v))
	}
	if v, ok := annotations[v1alpha1.AnnotationFailover]; ok {
		out = append(out, parseRequest(v1alpha1.RequestFailover, v))
	}
	return out
}

// parseRequest reads an annotation's value: comma-separated key=value
// fields, id required (see v1alpha1.AnnotationSwitchover and
// AnnotationFailover).
func parseRequest(kind v1alpha1.RequestKind, value string) request {
	r := request{kind: kind}
	var errs []error
	seen := map[string]bool{}
	for _, field := range strings.Split(value, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(field), "=")
		if seen[k] {
			errs = append(errs, fmt.Errorf("%s given twice", k))
		}
		seen[k] = true
		switch {
		case k == "id" && requestID.MatchString(v):
			r.id = v
		case k == "id":
			errs = append(errs, fmt.Errorf("id %q: want 1-63 letters, digits, '-', '_' or '.'", v))
		case k == "to" && v != "":
			r.to = v
		case k == "acceptDataLoss" && kind == v1alpha1.RequestFailover && (v == "true" || v == "false"):
			r.acceptDataLoss = v == "true"
		default:
			errs = append(errs, fmt.Errorf("unknown field %q", field))
		}
	}
	if !seen["id"] {
		errs = append(errs, errors.New("no id"))
	}
	if r.err = errors.Join(errs...); r.err != nil {
		r.err = fmt.Errorf("annotation %q: %w", value, r.err)
		if r.id == "" {
			r.id = truncate(strings.ToValidUTF8(value, "\uFFFD"), 63)
		}
		if r.id == "" {
			r.id = "(empty)" // an id to record the refusal under
		}
	}
	return r
}

// event turns an accepted request into the machine's event, resolving a
// switchover target against the view and the member clusters' regions.
func (r request) event(v *view, at time.Time) (failover.Event, error) {
	if r.kind == v1alpha1.RequestFailover {
		if r.to != "" {
			if n, ok := ordinalOf(v.name, r.to); !ok || n >= v.replicas {
				return nil, fmt.Errorf("no replica %s: want %s-<ordinal> below %d", r.to, v.name, v.replicas)
			}
		}
		return failover.FailoverRequested{To: r.to, AcceptDataLoss: r.acceptDataLoss, At: at}, nil
	}
	var to failover.Target
	switch n, ok := ordinalOf(v.name, r.to); {
	case r.to == "":
	case ok && n < v.replicas:
		to.Replica = r.to
	case v.regions[r.to] != "":
		to.Cluster = r.to
	case hasValue(v.regions, r.to):
		to.Region = r.to
	default:
		return nil, fmt.Errorf("no replica, member cluster or region named %s", r.to)
	}
	return failover.SwitchoverRequested{To: to, At: at}, nil
}

// outcome says where an accepted request stands in s: Succeeded once a
// primary newer than the request's epoch is Stable, Failed when the
// change ended without one, and Accepted while it is under way.
func outcome(rs *v1alpha1.RequestStatus, s *failover.State) (v1alpha1.RequestPhase, string) {
	ph := s.Phase
	switch {
	case int64(s.Epoch) > rs.Epoch && ph.Name == failover.Stable:
		return v1alpha1.RequestSucceeded, fmt.Sprintf("%s is primary in epoch %d", where(s, s.Primary), s.Epoch)
	case int64(s.Epoch) != rs.Epoch:
		return v1alpha1.RequestAccepted, ""
	case ph.Name == failover.Stable:
		return v1alpha1.RequestFailed, fmt.Sprintf("the primary did not change: %s", s.Condition.Message)
	case rs.Kind == v1alpha1.RequestSwitchover && ph.Name != failover.SwitchingOver && !(ph.Name == failover.Promoting && ph.Cause == failover.CauseSwitchover):
		return v1alpha1.RequestFailed, ph.Note
	case rs.Kind == v1alpha1.RequestFailover && (ph.Name == failover.PrimaryLost || ph.Name == failover.NoCandidate):
		return v1alpha1.RequestFailed, "the promotion was not committed: " + s.Condition.Message
	}
	return v1alpha1.RequestAccepted, ""
}

// where names a replica with its cluster: "db-2 (us-1)".
func where(s *failover.State, name string) string {
	if r := s.Replica(name); r != nil && r.Cluster != "" {
		return fmt.Sprintf("%s (%s)", name, r.Cluster)
	}
	return name
}

func hasValue(m map[string]string, v string) bool {
	for _, x := range m {
		if x == v {
			return true
		}
	}
	return false
}

// truncate cuts s to at most n bytes at a character boundary: status
// strings must stay valid UTF-8, or they read back different.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
