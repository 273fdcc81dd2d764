package placement

import (
	"errors"
	"fmt"
	"sort"
)

// ErrInvalidInput is wrapped by every error Place returns for input it
// cannot plan with; the rest of the error names the fields.
var ErrInvalidInput = errors.New("placement: invalid input")

// MaxReplicas bounds Request.Replicas, as the API does.
const MaxReplicas = 10000

// Validate reports every invalid field of the input at once.
func (in Input) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	names := map[string]bool{}
	for i, c := range in.Clusters {
		f := fmt.Sprintf("Clusters[%d]", i)
		if c.Name == "" {
			bad(f+".Name", "must not be empty")
		} else if names[c.Name] {
			bad(f+".Name", "%q is listed twice", c.Name)
		}
		names[c.Name] = true
		if c.Capacity != nil && *c.Capacity < 0 {
			bad(f+".Capacity", "must not be negative, got %d", *c.Capacity)
		}
		for j, t := range c.Taints {
			if t.Effect != NoSchedule && t.Effect != NoExecute {
				bad(fmt.Sprintf("%s.Taints[%d].Effect", f, j), "must be NoSchedule or NoExecute, got %q", t.Effect)
			}
			if t.Key == "" {
				bad(fmt.Sprintf("%s.Taints[%d].Key", f, j), "must not be empty")
			}
		}
	}
	in.Request.validate(bad)
	validateCurrent(in.Current, bad)
	if in.MoveBudget < 0 {
		bad("MoveBudget", "must not be negative, got %d", in.MoveBudget)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalidInput, errors.Join(errs...))
	}
	return nil
}

func (r Request) validate(bad func(field, format string, args ...any)) {
	if r.Replicas < 0 || r.Replicas > MaxReplicas {
		bad("Request.Replicas", "must be within 0..%d, got %d", MaxReplicas, r.Replicas)
	}
	if r.Selector != nil {
		for i, req := range r.Selector.MatchExpressions {
			f := fmt.Sprintf("Request.Selector.MatchExpressions[%d]", i)
			if req.Key == "" {
				bad(f+".Key", "must not be empty")
			}
			switch req.Operator {
			case In, NotIn:
				if len(req.Values) == 0 {
					bad(f+".Values", "must not be empty for operator %s", req.Operator)
				}
			case LabelExists, DoesNotExist:
				if len(req.Values) > 0 {
					bad(f+".Values", "must be empty for operator %s", req.Operator)
				}
			default:
				bad(f+".Operator", "must be In, NotIn, Exists or DoesNotExist, got %q", req.Operator)
			}
		}
	}
	for i, t := range r.Tolerations {
		f := fmt.Sprintf("Request.Tolerations[%d]", i)
		switch t.Operator {
		case Equal, "":
			if t.Key == "" {
				bad(f+".Key", "must not be empty with operator Equal")
			}
		case Exists:
			if t.Value != "" {
				bad(f+".Value", "must be empty with operator Exists")
			}
		default:
			bad(f+".Operator", "must be Equal or Exists, got %q", t.Operator)
		}
		if t.Effect != "" && t.Effect != NoSchedule && t.Effect != NoExecute {
			bad(f+".Effect", "must be empty, NoSchedule or NoExecute, got %q", t.Effect)
		}
	}
	levels := map[Topology]bool{}
	for i, s := range r.Spread {
		f := fmt.Sprintf("Request.Spread[%d]", i)
		switch s.Topology {
		case ByRegion, ByZone, ByCluster:
			if levels[s.Topology] {
				bad(f+".Topology", "%q has two constraints", s.Topology)
			}
			levels[s.Topology] = true
		default:
			bad(f+".Topology", "must be region, zone or cluster, got %q", s.Topology)
		}
		if s.MaxSkew < 1 {
			bad(f+".MaxSkew", "must be at least 1, got %d", s.MaxSkew)
		}
		if s.MinDomains < 0 {
			bad(f+".MinDomains", "must not be negative, got %d", s.MinDomains)
		}
	}
	bounded := map[string]bool{}
	for i, b := range r.Bounds {
		f := fmt.Sprintf("Request.Bounds[%d]", i)
		if b.Cluster == "" {
			bad(f+".Cluster", "must not be empty")
		} else if bounded[b.Cluster] {
			bad(f+".Cluster", "%q has two entries", b.Cluster)
		}
		bounded[b.Cluster] = true
		if b.Min != nil && *b.Min < 0 {
			bad(f+".Min", "must not be negative, got %d", *b.Min)
		}
		if b.Max != nil && *b.Max < 0 {
			bad(f+".Max", "must not be negative, got %d", *b.Max)
		}
		if b.Min != nil && b.Max != nil && *b.Min > *b.Max {
			bad(f+".Min", "%d is above Max %d", *b.Min, *b.Max)
		}
		if b.Weight != nil && (*b.Weight < 0 || *b.Weight > 1000) {
			bad(f+".Weight", "must be within 0..1000, got %d", *b.Weight)
		}
	}
	switch r.Quorum.Rule {
	case NoQuorumRule, NoRegionMajority:
		if r.Quorum.Region != "" {
			bad("Request.Quorum.Region", "is only allowed with rule MajorityIn")
		}
	case MajorityIn:
		if r.Quorum.Region == "" {
			bad("Request.Quorum.Region", "is required with rule MajorityIn")
		}
	default:
		bad("Request.Quorum.Rule", "must be empty, NoRegionMajority or MajorityIn, got %q", r.Quorum.Rule)
	}
}

// validateCurrent checks that the current ranges tile 0..N-1 exactly, one
// range per cluster.
func validateCurrent(cur []Range, bad func(field, format string, args ...any)) {
	seen := map[string]bool{}
	idx := make([]int, 0, len(cur))
	for i, r := range cur {
		f := fmt.Sprintf("Current[%d]", i)
		if r.Cluster == "" {
			bad(f+".Cluster", "must not be empty")
		} else if seen[r.Cluster] {
			bad(f+".Cluster", "%q has two ranges", r.Cluster)
		}
		seen[r.Cluster] = true
		if r.Start < 0 || r.Start > MaxReplicas {
			bad(f+".Start", "must be within 0..%d, got %d", MaxReplicas, r.Start)
		}
		if r.Count < 0 || r.Count > MaxReplicas {
			bad(f+".Count", "must be within 0..%d, got %d", MaxReplicas, r.Count)
		}
		if r.Count > 0 {
			idx = append(idx, i)
		}
	}
	sort.Slice(idx, func(a, b int) bool { return cur[idx[a]].Start < cur[idx[b]].Start })
	next := 0
	for _, i := range idx {
		r := cur[i]
		if r.Start != next {
			bad(fmt.Sprintf("Current[%d].Start", i), "ranges must tile the ordinals from 0 without gaps or overlaps: %s starts at %d, expected %d", r.Cluster, r.Start, next)
			return
		}
		next = r.Start + r.Count
	}
}
