package members

import (
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// cond is a condition with only the fields these tests compare.
type cond struct {
	Status metav1.ConditionStatus
	Reason string
}

func conditionOf(t *testing.T, st v1alpha1.MemberClusterStatus, typ string) cond {
	t.Helper()
	c := meta.FindStatusCondition(st.Conditions, typ)
	if c == nil {
		return cond{}
	}
	return cond{Status: c.Status, Reason: c.Reason}
}

func conditions(reach, ready cond) []metav1.Condition {
	var out []metav1.Condition
	if reach.Reason != "" {
		out = append(out, metav1.Condition{Type: v1alpha1.MemberReachable, Status: reach.Status, Reason: reach.Reason, Message: "m"})
	}
	if ready.Reason != "" {
		out = append(out, metav1.Condition{Type: v1alpha1.MemberReady, Status: ready.Status, Reason: ready.Reason, Message: "m"})
	}
	return out
}

var (
	reachTrue    = cond{Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonProbeSucceeded}
	readyTrue    = cond{Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonProbeSucceeded}
	probeFailed  = cond{Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonProbeFailed}
	probePending = cond{Status: metav1.ConditionUnknown, Reason: v1alpha1.ReasonProbePending}
	reachNotRdy  = cond{Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonAPIServerNotReady}
	readyNotRdy  = cond{Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonAPIServerNotReady}
	noSecret     = cond{Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonSecretNotFound}
	noSecretRch  = cond{Status: metav1.ConditionUnknown, Reason: v1alpha1.ReasonSecretNotFound}
	badConfig    = cond{Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonKubeconfigInvalid}
)

func TestApplyProbe(t *testing.T) {
	now := time.Unix(5000, 0)
	capacity := &v1alpha1.ClusterCapacity{Nodes: 2, CPU: resource.MustParse("4"), StorageClasses: []string{"standard"}}
	tests := []struct {
		name         string
		before       []metav1.Condition
		health       health
		wantReach    cond
		wantReady    cond
		wantCapacity bool
	}{
		{name: "healthy from nothing", health: health{Verdict: healthy, LastProbe: now, Capacity: capacity, Version: "v1.36.3"},
			wantReach: reachTrue, wantReady: readyTrue, wantCapacity: true},
		{name: "pending from nothing", health: health{Verdict: pending, LastProbe: now, Failures: 1, LastErr: errors.New("refused")},
			wantReach: probePending, wantReady: probePending},
		{name: "pending replaces a credential problem", before: conditions(noSecretRch, noSecret), health: health{Verdict: pending, LastProbe: now},
			wantReach: probePending, wantReady: probePending},
		{name: "pending keeps an earlier verdict", before: conditions(reachTrue, readyTrue), health: health{Verdict: pending, LastProbe: now},
			wantReach: reachTrue, wantReady: readyTrue},
		{name: "unreachable", before: conditions(reachTrue, readyTrue), health: health{Verdict: unreachable, Failures: 3, LastErr: errors.New("refused"), LastProbe: now},
			wantReach: probeFailed, wantReady: probeFailed},
		{name: "not ready", before: conditions(reachTrue, readyTrue), health: health{Verdict: notReady, Failures: 3, LastErr: errors.New("500"), LastProbe: now},
			wantReach: reachNotRdy, wantReady: readyNotRdy},
		{name: "recovered keeps old capacity", before: conditions(probeFailed, probeFailed), health: health{Verdict: healthy, LastProbe: now},
			wantReach: reachTrue, wantReady: readyTrue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := v1alpha1.MemberClusterStatus{Conditions: tt.before}
			applyProbe(&st, tt.health, 7)
			if got := conditionOf(t, st, v1alpha1.MemberReachable); got != tt.wantReach {
				t.Errorf("Reachable = %+v, want %+v", got, tt.wantReach)
			}
			if got := conditionOf(t, st, v1alpha1.MemberReady); got != tt.wantReady {
				t.Errorf("Ready = %+v, want %+v", got, tt.wantReady)
			}
			if st.LastProbeTime == nil || !st.LastProbeTime.Time.Equal(now) {
				t.Errorf("LastProbeTime = %v, want %s", st.LastProbeTime, now)
			}
			if (st.Capacity != nil) != tt.wantCapacity {
				t.Errorf("Capacity = %v, want set: %t", st.Capacity, tt.wantCapacity)
			}
			if tt.wantCapacity && st.KubernetesVersion != "v1.36.3" {
				t.Errorf("KubernetesVersion = %q", st.KubernetesVersion)
			}
			for _, c := range st.Conditions {
				if tt.before == nil && c.ObservedGeneration != 7 {
					t.Errorf("condition %s observedGeneration = %d, want 7", c.Type, c.ObservedGeneration)
				}
			}
		})
	}
}

// TestApplyProbeIsStableWhileDown checks that further failed probes of a
// member already down change nothing but lastProbeTime, so its status is
// not rewritten on every probe.
func TestApplyProbeIsStableWhileDown(t *testing.T) {
	for _, v := range []verdict{unreachable, notReady} {
		var st v1alpha1.MemberClusterStatus
		h := health{Verdict: v, Failures: 3, LastErr: errors.New("refused"), LastProbe: time.Unix(100, 0)}
		applyProbe(&st, h, 1)
		next := *st.DeepCopy()
		h.Failures, h.LastProbe = 4, time.Unix(101, 0)
		applyProbe(&next, h, 1)
		if needsWrite(st, next, statusRefresh) {
			t.Errorf("verdict %d: one more failed probe rewrites the status", v)
		}
	}
}

func TestApplyCredentialProblem(t *testing.T) {
	st := v1alpha1.MemberClusterStatus{Conditions: conditions(reachTrue, readyTrue)}
	applyCredentialProblem(&st, v1alpha1.ReasonKubeconfigInvalid, "no server", 3)
	if got := conditionOf(t, st, v1alpha1.MemberReady); got != badConfig {
		t.Errorf("Ready = %+v, want %+v", got, badConfig)
	}
	want := cond{Status: metav1.ConditionUnknown, Reason: v1alpha1.ReasonKubeconfigInvalid}
	if got := conditionOf(t, st, v1alpha1.MemberReachable); got != want {
		t.Errorf("Reachable = %+v, want %+v", got, want)
	}
}

func TestNeedsWrite(t *testing.T) {
	at := func(sec int64) *metav1.Time { return &metav1.Time{Time: time.Unix(sec, 0)} }
	base := v1alpha1.MemberClusterStatus{Conditions: conditions(reachTrue, readyTrue), LastProbeTime: at(100),
		Capacity: &v1alpha1.ClusterCapacity{Nodes: 1, CPU: resource.MustParse("32")}}
	with := func(f func(*v1alpha1.MemberClusterStatus)) v1alpha1.MemberClusterStatus {
		s := base.DeepCopy()
		f(s)
		return *s
	}
	tests := []struct {
		name    string
		old     v1alpha1.MemberClusterStatus
		desired v1alpha1.MemberClusterStatus
		want    bool
	}{
		{name: "identical", old: base, desired: base, want: false},
		{name: "probe time only, recent", old: base, desired: with(func(s *v1alpha1.MemberClusterStatus) { s.LastProbeTime = at(129) }), want: false},
		{name: "probe time only, stale", old: base, desired: with(func(s *v1alpha1.MemberClusterStatus) { s.LastProbeTime = at(130) }), want: true},
		{name: "first probe time", old: with(func(s *v1alpha1.MemberClusterStatus) { s.LastProbeTime = nil }), desired: base, want: true},
		{name: "condition changed", old: base, desired: with(func(s *v1alpha1.MemberClusterStatus) {
			s.Conditions = conditions(probeFailed, probeFailed)
			s.LastProbeTime = at(101)
		}), want: true},
		{name: "capacity changed", old: base, desired: with(func(s *v1alpha1.MemberClusterStatus) { s.Capacity.Nodes = 2 }), want: true},
		{name: "same quantity spelled differently", old: base, desired: with(func(s *v1alpha1.MemberClusterStatus) { s.Capacity.CPU = resource.MustParse("32000m") }), want: false},
		{name: "version changed", old: base, desired: with(func(s *v1alpha1.MemberClusterStatus) { s.KubernetesVersion = "v1.36.4" }), want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := needsWrite(tt.old, tt.desired, statusRefresh); got != tt.want {
				t.Errorf("needsWrite = %t, want %t", got, tt.want)
			}
		})
	}
}

func TestTransitionEvents(t *testing.T) {
	type ev struct{ Type, Reason string }
	tests := []struct {
		name     string
		old, new []metav1.Condition
		want     []ev
	}{
		{name: "nothing changed", old: conditions(reachTrue, readyTrue), new: conditions(reachTrue, readyTrue)},
		{name: "first verdict healthy", new: conditions(reachTrue, readyTrue),
			want: []ev{{corev1.EventTypeNormal, v1alpha1.ReasonProbeSucceeded}}},
		{name: "pending is no news", new: conditions(probePending, probePending)},
		{name: "became unreachable", old: conditions(reachTrue, readyTrue), new: conditions(probeFailed, probeFailed),
			want: []ev{{corev1.EventTypeWarning, v1alpha1.ReasonProbeFailed}}},
		{name: "first verdict unreachable", old: conditions(probePending, probePending), new: conditions(probeFailed, probeFailed),
			want: []ev{{corev1.EventTypeWarning, v1alpha1.ReasonProbeFailed}}},
		{name: "still unreachable", old: conditions(probeFailed, probeFailed), new: conditions(probeFailed, probeFailed)},
		{name: "back again", old: conditions(probeFailed, probeFailed), new: conditions(reachTrue, readyTrue),
			want: []ev{{corev1.EventTypeNormal, v1alpha1.ReasonProbeSucceeded}}},
		{name: "not ready", old: conditions(reachTrue, readyTrue), new: conditions(reachNotRdy, readyNotRdy),
			want: []ev{{corev1.EventTypeWarning, v1alpha1.ReasonAPIServerNotReady}}},
		{name: "not ready to unreachable", old: conditions(reachNotRdy, readyNotRdy), new: conditions(probeFailed, probeFailed),
			want: []ev{{corev1.EventTypeWarning, v1alpha1.ReasonProbeFailed}}},
		{name: "kubeconfig invalid", old: conditions(reachTrue, readyTrue), new: conditions(cond{metav1.ConditionUnknown, v1alpha1.ReasonKubeconfigInvalid}, badConfig),
			want: []ev{{corev1.EventTypeWarning, v1alpha1.ReasonKubeconfigInvalid}}},
		{name: "kubeconfig still invalid", old: conditions(probePending, badConfig), new: conditions(probePending, badConfig)},
		{name: "secret missing", new: conditions(noSecretRch, noSecret),
			want: []ev{{corev1.EventTypeWarning, v1alpha1.ReasonSecretNotFound}}},
		{name: "secret back, connected", old: conditions(noSecretRch, noSecret), new: conditions(reachTrue, readyTrue),
			want: []ev{{corev1.EventTypeNormal, v1alpha1.ReasonProbeSucceeded}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []ev
			for _, n := range transitionEvents(tt.old, tt.new) {
				got = append(got, ev{n.Type, n.Reason})
				if n.Note == "" {
					t.Errorf("event %s has no note", n.Reason)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("events = %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("event %d = %v, want %v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestTransitionEventNotes(t *testing.T) {
	back := transitionEvents(conditions(probeFailed, probeFailed), conditions(reachTrue, readyTrue))
	if len(back) != 1 || !strings.HasSuffix(back[0].Note, "again") {
		t.Errorf("recovery events %+v, want one note ending in \"again\"", back)
	}
	first := transitionEvents(nil, conditions(reachTrue, readyTrue))
	if len(first) != 1 || strings.Contains(first[0].Note, "again") {
		t.Errorf("first-verdict events %+v, want one note without \"again\"", first)
	}
	long := conditions(probeFailed, probeFailed)
	long[0].Message = strings.Repeat("x", 5000)
	for _, n := range transitionEvents(nil, long) {
		if len(n.Note) > maxNote {
			t.Errorf("%s note of %d bytes, the events API takes %d", n.Reason, len(n.Note), maxNote)
		}
	}
}

func TestFailedChecks(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{name: "readyz verbose", body: "[+]ping ok\n[-]etcd failed: reason withheld\n[+]log ok\n[-]shutdown failed: reason withheld\nreadyz check failed\n",
			want: "failed checks: etcd, shutdown"},
		{name: "plain text", body: "  service unavailable \n", want: "service unavailable"},
		{name: "long", body: strings.Repeat("é", 300), want: strings.Repeat("é", 98) + "…"},
		{name: "empty", body: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := failedChecks([]byte(tt.body)); got != tt.want {
				t.Errorf("failedChecks = %q, want %q", got, tt.want)
			}
		})
	}
}
