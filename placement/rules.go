package placement

import (
	"fmt"
	"sort"
	"strings"
)

// allocation options: a region that must hold a replica (the preferred
// primary region), and whether to ignore where replicas run today.
type allocOptions struct {
	needRegion string
	ignoreKept bool
}

// allocate picks the target count of every candidate: every rule holds,
// as few replicas as possible leave clusters that may keep them, and the
// rest follows the weights. It returns nil counts and the reasons when no
// allocation meets every rule.
func allocate(cands []*candidate, req Request, opt allocOptions) ([]int, []string) {
	base := newProblem(cands, req)
	base.ignoreKept = opt.ignoreKept
	if opt.needRegion != "" {
		base.regionB[opt.needRegion] = base.regionBound(opt.needRegion).intersect(bound{1, req.Replicas})
	}
	if reasons := base.quorumBounds(req.Quorum); len(reasons) > 0 {
		return nil, reasons
	}
	var hard []Spread
	for _, s := range req.Spread {
		if !s.Soft && req.Replicas > 0 {
			hard = append(hard, s)
		}
	}
	var best []int
	var bestCost price
	// Each hard spread rule pins every eligible domain to [m, m+maxSkew]
	// for some floor m; only a few floors let the counts add up.
	var try func(k int, p *problem)
	try = func(k int, p *problem) {
		if k == len(hard) {
			if n := p.solve(); n != nil {
				if c := p.totalCost(n); best == nil || c.less(bestCost) {
					best, bestCost = n, c
				}
			}
			return
		}
		s := hard[k]
		domains := p.eligibleDomains(s.Topology)
		if len(domains) == 0 {
			return
		}
		d := len(domains)
		for m := max(0, ceilDiv(p.replicas, d)-s.MaxSkew); m <= p.replicas/d; m++ {
			try(k+1, p.withSpread(s, domains, m))
		}
	}
	try(0, base)
	if best == nil {
		return nil, diagnose(base, req)
	}
	return best, nil
}

// newProblem sets up the allocation without spread or quorum rules.
func newProblem(cands []*candidate, req Request) *problem {
	p := &problem{
		cands: cands, replicas: req.Replicas,
		regionB: map[string]bound{}, zoneB: map[string]bound{},
	}
	p.regionID, p.zoneID = map[string]int{}, map[string]int{}
	p.regionMembers, p.zoneMembers = map[string][]int{}, map[string][]int{}
	for i, cd := range cands {
		r, z := cd.domainKey(ByRegion), cd.domainKey(ByZone)
		if _, ok := p.regionID[r]; !ok {
			p.regionID[r] = len(p.regionID)
		}
		if _, ok := p.zoneID[z]; !ok {
			p.zoneID[z] = len(p.zoneID)
		}
		p.regionOf = append(p.regionOf, p.regionID[r])
		p.zoneOf = append(p.zoneOf, p.zoneID[z])
		p.regionMembers[r] = append(p.regionMembers[r], i)
		p.zoneMembers[z] = append(p.zoneMembers[z], i)
		p.all = append(p.all, i)
		p.clusterB = append(p.clusterB, bound{cd.lo, cd.hi})
		if cd.hi > 0 {
			p.totalWeight += int64(cd.weight)
		}
	}
	uniform := p.totalWeight == 0
	for _, cd := range cands {
		w := int64(cd.weight)
		if uniform {
			w = 1
		}
		p.weight = append(p.weight, w)
	}
	if uniform {
		p.totalWeight = 0
		for _, cd := range cands {
			if cd.hi > 0 {
				p.totalWeight++
			}
		}
	}
	// Growing a cluster in the middle of the ordinal line shifts its
	// neighbours; growing the last one, a new one, or one beside replicas
	// that must leave (into their place) does not.
	p.free = freeGrowth(cands, req.Replicas)
	for _, f := range p.free {
		r := 1
		if f < 0 {
			r = 0
		}
		p.rank = append(p.rank, r)
	}
	return p
}

// freeGrowth is how many replicas each candidate can gain without shifting
// a neighbour: any number for a new cluster; for one on the ordinal line,
// the room left beside it by neighbours that must leave and, at the end of
// the line, by new ordinals.
func freeGrowth(cands []*candidate, replicas int) []int {
	free := make([]int, len(cands))
	var line []int
	kept := 0
	for i, cd := range cands {
		kept += cd.kept
		if cd.kept == 0 {
			free[i] = -1
		} else {
			line = append(line, i)
		}
	}
	sort.Slice(line, func(a, b int) bool { return cands[line[a]].start < cands[line[b]].start })
	// Walk the line; a run of vacated segments (and the new ordinals at
	// the end) is room for the surviving clusters on either side of it.
	run, left := 0, -1
	for _, i := range line {
		if cands[i].hi == 0 {
			run += cands[i].kept
			continue
		}
		if left >= 0 || run > 0 {
			free[i] += run
			if left >= 0 {
				free[left] += run
			}
		}
		run, left = 0, i
	}
	run += replicas - kept
	if left >= 0 {
		free[left] += run
	}
	return free
}

// clone copies the bounds so that a rule can narrow them.
func (p *problem) clone() *problem {
	q := *p
	q.clusterB = append([]bound(nil), p.clusterB...)
	q.regionB, q.zoneB = map[string]bound{}, map[string]bound{}
	for k, v := range p.regionB {
		q.regionB[k] = v
	}
	for k, v := range p.zoneB {
		q.zoneB[k] = v
	}
	return &q
}

// quorumBounds narrows region bounds for the quorum rule, or says why the
// rule cannot hold.
func (p *problem) quorumBounds(q Quorum) []string {
	r := p.replicas
	if r == 0 {
		return nil
	}
	switch q.Rule {
	case NoRegionMajority:
		most := ceilDiv(r, 2) - 1
		if most == 0 {
			return []string{fmt.Sprintf("NoRegionMajority needs at least 3 replicas, %d requested", r)}
		}
		for _, reg := range p.domainsOf(ByRegion, false) {
			p.regionB[reg] = p.regionBound(reg).intersect(bound{0, most})
		}
	case MajorityIn:
		p.regionB[q.Region] = p.regionBound(q.Region).intersect(bound{r/2 + 1, r})
	}
	return nil
}

// withSpread returns a copy in which every eligible domain of s holds
// between m and m+MaxSkew replicas, and at least MinDomains hold some.
func (p *problem) withSpread(s Spread, domains []string, m int) *problem {
	q := p.clone()
	b := bound{m, m + s.MaxSkew}
	need := min(s.MinDomains, p.replicas)
	if m == 0 && need > 0 {
		// The floor does not keep domains non-empty: the allocation must.
		q.spread = append(append([]minDomains(nil), p.spread...), minDomains{s.Topology, need})
	}
	for _, d := range domains {
		db := b
		switch s.Topology {
		case ByRegion:
			q.regionB[d] = q.regionBound(d).intersect(db)
		case ByZone:
			q.zoneB[d] = q.zoneBound(d).intersect(db)
		case ByCluster:
			for i, cd := range p.cands {
				if cd.name == d {
					q.clusterB[i] = q.clusterB[i].intersect(db)
				}
			}
		}
	}
	if len(domains) < need {
		q.infeasible = true
	}
	return q
}

// eligibleDomains are the domains at level t with a candidate that may
// hold replicas, sorted.
func (p *problem) eligibleDomains(t Topology) []string { return p.domainsOf(t, true) }

func (p *problem) domainsOf(t Topology, eligibleOnly bool) []string {
	seen := map[string]bool{}
	var out []string
	for _, cd := range p.cands {
		if eligibleOnly && cd.hi == 0 {
			continue
		}
		if !cd.inventory {
			continue
		}
		k := cd.domainKey(t)
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// diagnose explains why no allocation meets every rule: each rule checked
// on its own, then the combination.
func diagnose(p *problem, req Request) []string {
	var reasons []string
	r := req.Replicas
	capacity, minimum := 0, 0
	var excluded, capped []string
	for _, cd := range p.cands {
		capacity += cd.hi
		minimum += cd.lo
		switch {
		case cd.lo > cd.hi:
			reasons = append(reasons, fmt.Sprintf("%s needs at least %d replicas but may hold at most %d: %s", cd.name, cd.lo, cd.hi, strings.Join(cd.notes, "; ")))
		case cd.hi == 0:
			excluded = append(excluded, cd.describe())
		case len(cd.notes) > 0:
			capped = append(capped, cd.describe())
		}
	}
	if capacity < r {
		msg := fmt.Sprintf("needs %d replicas but the clusters may hold at most %d", r, capacity)
		if len(excluded) > 0 {
			msg += "; excluded: " + strings.Join(excluded, ", ")
		}
		if len(capped) > 0 {
			msg += "; capped: " + strings.Join(capped, ", ")
		}
		reasons = append(reasons, msg)
	}
	if minimum > r {
		reasons = append(reasons, fmt.Sprintf("the per-cluster minimums add up to %d, more than the %d replicas requested", minimum, r))
	}
	regions := p.eligibleDomains(ByRegion)
	describeRegions := func() string {
		var parts []string
		for _, reg := range p.domainsOf(ByRegion, false) {
			if contains(regions, reg) {
				parts = append(parts, reg)
				continue
			}
			var why []string
			for _, cd := range p.cands {
				if cd.inventory && cd.region == reg {
					why = append(why, cd.describe())
				}
			}
			parts = append(parts, reg+" (no eligible cluster: "+strings.Join(why, ", ")+")")
		}
		return strings.Join(parts, ", ")
	}
	switch req.Quorum.Rule {
	case NoRegionMajority:
		if most := ceilDiv(r, 2) - 1; most > 0 {
			if need := ceilDiv(r, most); len(regions) < need {
				reasons = append(reasons, fmt.Sprintf("needs %d regions for NoRegionMajority with %d replicas; %d eligible: %s",
					need, r, len(regions), describeRegions()))
			}
		}
	case MajorityIn:
		hold := 0
		for _, cd := range p.cands {
			if cd.region == req.Quorum.Region {
				hold += cd.hi
			}
		}
		if need := r/2 + 1; hold < need {
			reasons = append(reasons, fmt.Sprintf("MajorityIn %s needs %d of %d replicas there; its clusters may hold %d", req.Quorum.Region, need, r, hold))
		}
	}
	for _, s := range req.Spread {
		if s.Soft {
			continue
		}
		domains := p.eligibleDomains(s.Topology)
		if need := min(s.MinDomains, r); len(domains) < need {
			reasons = append(reasons, fmt.Sprintf("spread over %s needs %d domains; %d eligible: %s", s.Topology, need, len(domains), strings.Join(domains, ", ")))
		}
	}
	if len(reasons) == 0 {
		var rules []string
		for _, s := range req.Spread {
			if !s.Soft {
				rules = append(rules, fmt.Sprintf("spread over %s with maxSkew %d", s.Topology, s.MaxSkew))
			}
		}
		if req.Quorum.Rule != NoQuorumRule {
			rules = append(rules, "quorum "+string(req.Quorum.Rule)+" "+req.Quorum.Region)
		}
		for _, cd := range p.cands {
			if len(cd.notes) > 0 {
				rules = append(rules, cd.describe())
			}
		}
		reasons = append(reasons, fmt.Sprintf("no way to place %d replicas meets every rule together: %s", r, strings.Join(rules, "; ")))
	}
	return reasons
}
