package membership_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/fedstate/fedstate/federation/membership"
)

// TestRulesAreExactlyWhatTheHubNeeds pins the hub's ClusterRole to the list
// in docs/members.md: any extra verb or resource fails here first.
func TestRulesAreExactlyWhatTheHubNeeds(t *testing.T) {
	read := []string{"get", "list", "watch"}
	write := []string{"create", "delete", "get", "list", "patch", "update", "watch"}
	want := map[string][]string{
		"namespaces":                    {"create", "get", "list", "watch"},
		"apps/statefulsets":             write,
		"services":                      write,
		"policy/poddisruptionbudgets":   write,
		"pods":                          read,
		"persistentvolumeclaims":        read,
		"nodes":                         read,
		"storage.k8s.io/storageclasses": read,
	}
	got := map[string][]string{}
	for _, p := range membership.Permissions() {
		if p.Why == "" {
			t.Errorf("rule %v has no reason", p.Rule)
		}
		r := p.Rule
		if len(r.APIGroups) != 1 || len(r.ResourceNames) > 0 || len(r.NonResourceURLs) > 0 {
			t.Errorf("rule %v: want one API group, no resource names, no URLs", r)
		}
		for _, res := range r.Resources {
			key := res
			if r.APIGroups[0] != "" {
				key = r.APIGroups[0] + "/" + res
			}
			got[key] = append(got[key], r.Verbs...)
		}
	}
	for key, verbs := range got {
		slices.Sort(verbs)
		if !slices.Equal(verbs, want[key]) {
			t.Errorf("%s: verbs %v, want %v", key, verbs, want[key])
		}
	}
	if keys, wantKeys := slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)); !slices.Equal(keys, wantKeys) {
		t.Errorf("resources %v, want %v", keys, wantKeys)
	}
	if len(membership.Rules()) != len(membership.Permissions()) {
		t.Errorf("Rules and Permissions differ in length")
	}
}
